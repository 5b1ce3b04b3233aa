import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';

export interface Identity {
  user: string;
  host: string;
  pid: number;
  /**
   * Which pid space `pid` lives in: host name plus boot id plus pid-namespace inode where
   * readable. Two containers (or a host-network container and its host) can share a host name
   * and still not see each other's pids; only equal hostIds may judge each other's pids.
   */
  hostId: string;
}

let cachedHostId: string | undefined;

/** This process's pid space (see Identity.hostId); stable for the life of the process. */
export function hostId(): string {
  if (cachedHostId !== undefined) return cachedHostId;
  const parts = [hostname()];
  try {
    parts.push(readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim());
  } catch {
    parts.push('-');
  }
  try {
    // "pid:[4026531836]"
    parts.push(readlinkSync('/proc/self/ns/pid').replace(/^pid:\[(\d+)\]$/, '$1'));
  } catch {
    parts.push('-');
  }
  cachedHostId = parts.join('/');
  return cachedHostId;
}

/** Who this process is. `userInfo()` throws for uids without a passwd entry (containers): fall back to the environment. */
export function currentIdentity(): Identity {
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    user = process.env.USER || process.env.USERNAME || process.env.LOGNAME || 'unknown';
  }
  return { user, host: hostname(), pid: process.pid, hostId: hostId() };
}

/**
 * Whether a pid on this host is running: true, false (ESRCH), or undefined when it cannot be told.
 * Signal 0 checks existence without sending anything; Node implements it on Windows too.
 * EPERM means the process exists but belongs to someone else.
 */
export function isPidAlive(pid: number): boolean | undefined {
  // 0 and negative pids address process groups: never probe them.
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return !isZombie(pid);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ESRCH') return false;
    if (code === 'EPERM') return true;
    return undefined;
  }
}

/**
 * A killed process stays signalable as a zombie until its parent reaps it, and an orphan (a
 * detached keeper) waits for init, which in some containers and VMs never reaps. On Linux,
 * /proc says so: state Z or X means it is dead. Elsewhere (no /proc) this answers false.
 */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The state follows the command name, which is in parentheses and may contain any character.
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state === 'Z' || state === 'X';
  } catch {
    return false;
  }
}

/** Fields of /proc/<pid>/stat after the command name: [state, ppid, pgrp, ...]. */
function procStat(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/**
 * When a process started, in clock ticks since boot (Linux); with the boot id in hostId, a pid
 * plus this names one process for good, so a reused pid is not taken for the recorded one.
 * Undefined where /proc does not tell.
 */
export function processStartTime(pid: number): string | undefined {
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  // Field 22 of stat, the 20th after the command name.
  return procStat(pid)?.[19];
}

/** A recorded process is the same one still running: alive, and (where known) started at the recorded time. */
export function isSameProcessAlive(pid: number, startTime: string | undefined): boolean | undefined {
  // This process's own pid too: a dead holder's recorded pid may be ours now.
  if (startTime === undefined) return isPidAlive(pid);
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  // One read of /proc/<pid>/stat answers both (a zombie is dead; another start time is another
  // process); where /proc does not tell, signal 0 decides.
  const stat = procStat(pid);
  if (stat === undefined) return isPidAlive(pid);
  if (stat[0] === 'Z' || stat[0] === 'X') return false;
  return stat[19] === startTime;
}

/**
 * Whether any process of group `pgid` is still running (zombies do not count). kill(-pgid, 0)
 * answers for the group; on Linux /proc then tells live members from zombies.
 */
export function isGroupAlive(pgid: number): boolean | undefined {
  if (!Number.isSafeInteger(pgid) || pgid <= 1) return undefined;
  try {
    process.kill(-pgid, 0);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ESRCH') return false;
    if (code !== 'EPERM') return undefined;
  }
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return true;
  }
  const group = String(pgid);
  for (const p of pids) {
    const f = procStat(Number(p));
    if (f && f[2] === group && f[0] !== 'Z' && f[0] !== 'X') return true;
  }
  return false;
}

/** The process state letter (R, S, T for stopped, ...) where /proc tells. */
export function processState(pid: number): string | undefined {
  return procStat(pid)?.[0];
}
