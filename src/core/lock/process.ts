import { readFileSync, readlinkSync } from 'node:fs';
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
