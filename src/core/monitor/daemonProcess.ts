import { promises as fsp, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The dockerd process behind a local socket, read from /proc: its start time (Engine 20.10's
 * `/info` has none, so this is how a restart shows) and its CPU time (what the monitor's stats
 * calls cost it). Linux only; everything here answers undefined where /proc cannot tell.
 */
export interface DaemonProcess {
  pid: number;
  /** Unix ms the process started (boot time plus its start in clock ticks). */
  startedAtMs: number;
}

/** USER_HZ: /proc counts process times in these ticks; 100 on every Linux architecture node runs on. */
const TICKS_PER_S = 100;
/** __SO_ACCEPTCON in /proc/net/unix's Flags column: the socket listens. */
const ACCEPTCON = 0x10000;

const DEFAULT_SOCKETS = new Set(['/var/run/docker.sock', '/run/docker.sock']);

/** The fields of /proc/<pid>/stat after the command (which may hold spaces and parentheses). */
function statFields(text: string): string[] {
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}

function readText(path: string): string | undefined {
  try {
    // tiny in-memory kernel files: a synchronous read costs less than an async one
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

const bootTimes = new Map<string, number | undefined>();

/** Boot time (Unix ms) from /proc/stat `btime`; it does not change while we run, so read once. */
function bootTimeMs(proc: string): number | undefined {
  if (!bootTimes.has(proc)) {
    const m = /^btime (\d+)$/m.exec(readText(join(proc, 'stat')) ?? '');
    bootTimes.set(proc, m ? Number(m[1]) * 1000 : undefined);
  }
  return bootTimes.get(proc);
}

/** The process name (`comm`) of a pid, or undefined when it is gone. */
function commOf(proc: string, pid: number): string | undefined {
  return readText(join(proc, String(pid), 'comm'))?.trim();
}

/** A live pid's start time (Unix ms), from /proc/<pid>/stat field 22 (starttime, in ticks since boot). */
export function processStartMs(pid: number, proc = '/proc'): number | undefined {
  const text = readText(join(proc, String(pid), 'stat'));
  const boot = bootTimeMs(proc);
  if (text === undefined || boot === undefined) return undefined;
  const ticks = Number(statFields(text)[19]);
  return Number.isFinite(ticks) ? boot + Math.round((ticks / TICKS_PER_S) * 1000) : undefined;
}

/** User plus system CPU time of a pid so far, in ms (fields 14 and 15), or undefined when it is gone. */
export function processCpuMs(pid: number, proc = '/proc'): number | undefined {
  const text = readText(join(proc, String(pid), 'stat'));
  if (text === undefined) return undefined;
  const f = statFields(text);
  const ticks = Number(f[11]) + Number(f[12]);
  return Number.isFinite(ticks) ? (ticks / TICKS_PER_S) * 1000 : undefined;
}

/** Inodes of the listening unix sockets bound to `socketPath` (/proc/net/unix). */
async function listeningInodes(socketPath: string, proc: string): Promise<Set<string>> {
  const text = await fsp.readFile(join(proc, 'net', 'unix'), 'utf8').catch(() => '');
  const out = new Set<string>();
  for (const line of text.split('\n').slice(1)) {
    // Num RefCount Protocol Flags Type St Inode Path
    const cols = line.trim().split(/\s+/);
    if (cols.length < 8 || cols.slice(7).join(' ') !== socketPath) continue;
    if ((parseInt(cols[3] ?? '0', 16) & ACCEPTCON) !== 0 && cols[6]) out.add(cols[6]);
  }
  return out;
}

/** Whether `pid` holds one of `inodes` open (a readlink of each /proc/<pid>/fd/<n>). */
async function holds(proc: string, pid: number, inodes: Set<string>): Promise<boolean> {
  if (inodes.size === 0) return false;
  const fdDir = join(proc, String(pid), 'fd');
  for (const fd of await fsp.readdir(fdDir).catch(() => [] as string[])) {
    const m = /^socket:\[(\d+)\]$/.exec(await fsp.readlink(join(fdDir, fd)).catch(() => ''));
    if (m?.[1] && inodes.has(m[1])) return true;
  }
  return false;
}

/** Pids holding one of `inodes` open: every process's descriptors, so done once, not per sample. */
async function holders(inodes: Set<string>, proc: string): Promise<number[]> {
  if (inodes.size === 0) return [];
  const pids = (await fsp.readdir(proc).catch(() => [] as string[])).filter((n) => /^\d+$/.test(n));
  const out: number[] = [];
  for (const pid of pids) if (await holds(proc, Number(pid), inodes)) out.push(Number(pid));
  return out;
}

/**
 * Finds the dockerd listening on `socketPath`: the process holding the listening socket open
 * (SO_PEERCRED is not reachable from node), else the pid in `pidFile` when it names a live
 * dockerd. Holders that are not dockerd (systemd's socket activation, a proxy such as Docker
 * Desktop's) do not count: then the daemon is not a process of this machine we can read.
 */
export async function findDaemonProcess(
  socketPath: string,
  opts: { proc?: string; pidFile?: string } = {},
): Promise<DaemonProcess | undefined> {
  const proc = opts.proc ?? '/proc';
  // The default pidfile belongs to the default socket: another daemon's socket must not borrow
  // it. It is tried first because it is one read; the scan reads every process's descriptors.
  const pidFile = opts.pidFile ?? (DEFAULT_SOCKETS.has(socketPath) ? '/var/run/docker.pid' : undefined);
  const fromFile = pidFile ? Number((await fsp.readFile(pidFile, 'utf8').catch(() => '')).trim()) : 0;
  const inodes = await listeningInodes(socketPath, proc);
  const candidates =
    Number.isInteger(fromFile) &&
    fromFile > 0 &&
    commOf(proc, fromFile) === 'dockerd' &&
    (await holds(proc, fromFile, inodes))
      ? [fromFile]
      : await holders(inodes, proc);
  if (candidates.length === 0 && Number.isInteger(fromFile) && fromFile > 0) candidates.push(fromFile);
  for (const pid of candidates) {
    if (commOf(proc, pid) !== 'dockerd') continue;
    const startedAtMs = processStartMs(pid, proc);
    if (startedAtMs !== undefined) return { pid, startedAtMs };
  }
  return undefined;
}

/**
 * The processes a stats call costs: the dockerd, the containerd it started (its child) and every
 * containerd shim (each answers for its containers' cgroups; they are reparented, so found by
 * name). One pass over /proc, made once per full per-container read, not per sample.
 */
export function daemonPids(dockerdPid: number, proc = '/proc'): number[] {
  const children = (readText(join(proc, String(dockerdPid), 'task', String(dockerdPid), 'children')) ?? '')
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .map(Number);
  const out = [dockerdPid, ...children.filter((pid) => commOf(proc, pid) === 'containerd')];
  let names: string[] = [];
  try {
    names = readdirSync(proc);
  } catch {
    return out;
  }
  for (const n of names)
    if (/^\d+$/.test(n) && commOf(proc, Number(n))?.startsWith('containerd-shim')) out.push(Number(n));
  return out;
}
