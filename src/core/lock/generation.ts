import * as fs from 'node:fs';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';

/**
 * The lock directory `<name>.lock` holds one empty file, `owner-<token>`, created by the holder
 * right after its mkdir. The token is the lock's generation (its fencing token): every removal is
 * conditional on it, because unlinking `owner-<token>` succeeds only while that very generation
 * is in place. Inode numbers are reused at once and birth times are missing on ext4 with 128-byte
 * inodes, NFSv3 and many FUSE mounts, so neither can tell two generations apart; a random name
 * can, on every file system. The owner file's mtime is the heartbeat.
 */
const OWNER_PREFIX = 'owner-';

export function ownerFile(lockDir: string, token: string): string {
  return join(lockDir, OWNER_PREFIX + token);
}

/** What is on disk at a lock directory right now. */
export type Generation =
  | { state: 'free' }
  /** One holder: its token and the heartbeat (owner file mtime). */
  | { state: 'held'; token: string; heartbeatMs: number }
  /**
   * A directory with no single owner: being created or being released (for a few syscalls), left
   * by a process that died in between, or holding stray files. Its heartbeat is the directory's
   * mtime; `entries` are what to remove when it is stale.
   */
  | {
      state: 'unowned';
      heartbeatMs: number;
      entries: string[];
      owners: string[];
      dirMtimeMs: number;
      ino: number;
    };

function code(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/** Reads the generation at `lockDir`. A regular file or symlink planted at that path counts as unowned. */
export async function readGeneration(lockDir: string): Promise<Generation> {
  let dirSt: fs.Stats;
  try {
    dirSt = await fsp.lstat(lockDir);
  } catch (err) {
    if (code(err) === 'ENOENT') return { state: 'free' };
    throw err;
  }
  // Never list (or remove from) what a planted symlink points to.
  if (!dirSt.isDirectory())
    return {
      state: 'unowned',
      heartbeatMs: dirSt.mtimeMs,
      entries: [],
      owners: [],
      dirMtimeMs: dirSt.mtimeMs,
      ino: dirSt.ino,
    };
  let entries: string[];
  try {
    entries = await fsp.readdir(lockDir);
  } catch (err) {
    if (code(err) === 'ENOENT') return { state: 'free' };
    throw err;
  }
  const owners = entries.filter((e) => e.startsWith(OWNER_PREFIX));
  if (owners.length === 1) {
    const token = (owners[0] as string).slice(OWNER_PREFIX.length);
    try {
      const st = await fsp.lstat(ownerFile(lockDir, token));
      return { state: 'held', token, heartbeatMs: st.mtimeMs };
    } catch (err) {
      // Released between readdir and lstat: read again.
      if (code(err) === 'ENOENT') return readGeneration(lockDir);
      throw err;
    }
  }
  const st = await fsp.lstat(lockDir).catch(() => undefined);
  if (!st) return { state: 'free' };
  // Two owner files: a creator that stalled between its mkdir and its owner file, racing a newer
  // one; both back off. It is live while any of them is.
  let heartbeatMs = st.mtimeMs;
  for (const o of owners) {
    const ost = await fsp.lstat(join(lockDir, o)).catch(() => undefined);
    if (ost) heartbeatMs = Math.max(heartbeatMs, ost.mtimeMs);
  }
  return { state: 'unowned', heartbeatMs, entries, owners, dirMtimeMs: st.mtimeMs, ino: st.ino };
}

/**
 * Removes generation `token` and nothing else: unlinking its owner file is the commit point (it
 * fails with ENOENT once anyone else removed it, so two reclaimers, a stalled reclaimer, or a
 * holder releasing late cannot remove a newer holder's lock). The then empty directory is
 * removed when nobody created a new owner file in it meanwhile. True when this call removed it.
 */
export async function removeGeneration(lockDir: string, token: string): Promise<boolean> {
  try {
    await fsp.unlink(ownerFile(lockDir, token));
  } catch (err) {
    if (code(err) === 'ENOENT' || code(err) === 'ENOTDIR') return false;
    throw err;
  }
  await removeEmptyDir(lockDir);
  return true;
}

export function removeGenerationSync(lockDir: string, token: string): void {
  try {
    fs.unlinkSync(ownerFile(lockDir, token));
  } catch {
    return;
  }
  try {
    fs.rmdirSync(lockDir);
  } catch {
    // not empty (a new holder) or gone: either way not ours
  }
}

async function removeEmptyDir(lockDir: string): Promise<void> {
  try {
    await fsp.rmdir(lockDir);
  } catch (err) {
    // ENOTEMPTY/EEXIST: a new owner is already inside; ENOENT: someone else removed it.
    if (!['ENOTEMPTY', 'EEXIST', 'ENOENT'].includes(code(err) ?? '')) throw err;
  }
}

/**
 * Removes a stale unowned directory: the entries seen when it was judged (never an owner file
 * created since), then the directory if that left it empty. A planted file or symlink at the
 * lock path is unlinked (a lock is always a directory).
 */
export async function removeUnowned(
  lockDir: string,
  seen: Extract<Generation, { state: 'unowned' }>,
): Promise<void> {
  const st = await fsp.lstat(lockDir).catch(() => undefined);
  if (!st) return;
  // Not the directory judged: a new creator's, not yet holding its owner file. (Its mtime is
  // fresh where the judged one's was stale, whatever the inode numbers say.)
  if (st.mtimeMs !== seen.dirMtimeMs || st.ino !== seen.ino) return;
  if (!st.isDirectory()) {
    await fsp.unlink(lockDir).catch((err: unknown) => {
      if (code(err) !== 'ENOENT') throw err;
    });
    return;
  }
  for (const entry of seen.entries) {
    await fsp.rm(join(lockDir, entry), { recursive: true, force: true });
  }
  await removeEmptyDir(lockDir);
}

type Callback = (err: NodeJS.ErrnoException | null) => void;

/** Lock directories this process is acquiring or holds, with the token of its generation. */
const owned = new Map<string, string>();

export function own(lockDir: string, token: string): void {
  owned.set(lockDir, token);
}

export function disown(lockDir: string, token: string): void {
  if (owned.get(lockDir) === token) owned.delete(lockDir);
}

function held(): NodeJS.ErrnoException {
  return Object.assign(new Error('Lock file is already being held'), { code: 'ELOCKED' });
}

/**
 * The fs proper-lockfile is given (a plain object: module namespaces have getter-only
 * properties). proper-lockfile keeps doing what it does well, the heartbeat timer, noticing a
 * lost lock and releasing at exit, but on our generation: mkdir also creates the owner file,
 * the heartbeat stats and touches the owner file (ENOENT once the generation is gone, which it
 * reports as compromised), and every removal, its unlock and its exit hook included, removes
 * our generation only. A held lock is reported as ELOCKED at once: whether it is stale is
 * decided by the manager, which knows more than an mtime (process liveness, metadata).
 */
export const lockfileFs = {
  realpath: fs.realpath,
  mkdir(path: string, cb: Callback): void {
    const token = owned.get(path);
    if (token === undefined) return fs.mkdir(path, cb);
    fs.mkdir(path, (err) => {
      if (err) return cb(err.code === 'EEXIST' ? held() : err);
      const mine = ownerFile(path, token);
      fs.writeFile(mine, '', { flag: 'wx', mode: 0o644 }, (werr) => {
        if (werr) return cb(werr.code === 'ENOENT' || werr.code === 'ENOTDIR' ? held() : werr);
        // A creator that stalled between its mkdir and its owner file may have written into a
        // newer holder's directory: whoever sees another owner backs off, removing only its own file.
        fs.readdir(path, (rerr, entries) => {
          if (!rerr && entries.every((e) => !e.startsWith(OWNER_PREFIX) || e === OWNER_PREFIX + token))
            return cb(null);
          fs.unlink(mine, () => cb(rerr ?? held()));
        });
      });
    });
  },
  stat(path: string, cb: (err: NodeJS.ErrnoException | null, st: fs.Stats) => void): void {
    const token = owned.get(path);
    fs.stat(token === undefined ? path : ownerFile(path, token), cb);
  },
  utimes(path: string, atime: Date, mtime: Date, cb: Callback): void {
    const token = owned.get(path);
    fs.utimes(token === undefined ? path : ownerFile(path, token), atime, mtime, cb);
  },
  rmdir(path: string, cb: Callback): void {
    const token = owned.get(path);
    if (token === undefined) return cb(null);
    removeGeneration(path, token).then(
      () => cb(null),
      (err: NodeJS.ErrnoException) => cb(err),
    );
  },
  rmdirSync(path: string): void {
    const token = owned.get(path);
    if (token !== undefined) removeGenerationSync(path, token);
  },
};
