import { promises as fsp, type Stats } from 'node:fs';
import { join } from 'node:path';
import type { Generation } from './generation';
import type { LockHolder, LockMetadata, MetadataRead } from './metadata';
import type { LockPaths } from './names';
import { hostId, isGroupAlive, isSameProcessAlive } from './process';

export function errCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

export function describeHolder(h: Pick<LockHolder, 'user' | 'host' | 'pid' | 'why'>): string {
  return `${h.user}@${h.host} (pid ${h.pid}${h.why ? `, "${h.why}"` : ''})`;
}

/**
 * A shared holder as admission judged it: its token, and its needs when it declared any. A
 * holder that changes its needs (`LockHandle.setNeeds`, e.g. none left once its work is done)
 * gets a new key, so a refusal decided beside it is old, as if it had left.
 */
export function holderKey(h: Pick<LockHolder, 'token' | 'needs'>): string {
  if (h.needs === undefined) return h.token;
  const needs = Object.entries(h.needs)
    .filter(([, v]) => v !== 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return `${h.token}:${needs}`;
}

/** The metadata of the generation on disk, when it is that generation's (a dead holder's leftover is not). */
export function metaOf(gen: Generation, read: MetadataRead): LockMetadata | undefined {
  return gen.state === 'held' && read.state === 'ok' && read.meta.holder.token === gen.token
    ? read.meta
    : undefined;
}

/**
 * Whether the holder's processes run, judged only by a process in the holder's own pid space
 * (same host, boot and pid namespace): the holder lives while its process or its command's
 * process group does, whatever its heartbeat says (a paused wrapper whose command still runs
 * keeps the lock). Undefined when this process cannot tell: then the heartbeat decides.
 */
export function holderAlive(h: LockHolder): boolean | undefined {
  if (h.hostId === undefined || h.hostId !== hostId()) return undefined;
  const own = isSameProcessAlive(h.pid, h.pidStart);
  if (own === true) return true;
  if (h.pgid !== undefined && isGroupAlive(h.pgid) !== false) return true;
  return own;
}

/**
 * A folder others can write into can be used against its users (planted files, removed locks)
 * unless it is sticky (others cannot remove or rename what is ours) or a setgid team folder.
 */
export function unsafeFolder(st: Stats, platform: NodeJS.Platform = process.platform): string | undefined {
  // Windows has no POSIX mode bits to judge (its ACLs are not in st.mode).
  if (platform === 'win32' || !st.isDirectory()) return undefined;
  const sticky = (st.mode & 0o1000) !== 0;
  const setgid = (st.mode & 0o2000) !== 0;
  if (st.mode & 0o002 && !sticky)
    return 'is writable by every user and not sticky: run chmod o-w (or chmod +t) on it';
  if (st.mode & 0o020 && !sticky && !setgid)
    return 'is group-writable but neither setgid nor sticky: run chmod g+s (a team folder) or g-w on it';
  return undefined;
}

/** Where one shared holder keeps its lock and metadata, inside `<name>.shared/`. */
export function memberPaths(paths: LockPaths, token: string): LockPaths {
  return {
    target: join(paths.shared, token),
    lockDir: join(paths.shared, `${token}.lock`),
    metadata: join(paths.shared, `${token}.json`),
    events: paths.events,
    shared: paths.shared,
    queue: paths.queue,
  };
}

/** Something other than a regular file (a directory, FIFO, symlink) planted at a path. */
export async function isPlanted(file: string): Promise<boolean> {
  const st = await fsp.lstat(file).catch(() => undefined);
  return !!st && !st.isFile();
}
