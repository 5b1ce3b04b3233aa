import { join } from 'node:path';
import { LOCK_NAME_PATTERN } from '../../shared/lockName';

export { LOCK_NAME_PATTERN };

/** The lock name used when the user names none. */
export const DEFAULT_LOCK_NAME = 'test';

/** Device names Windows refuses as file names, with or without an extension. */
const WINDOWS_RESERVED_RE = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;

export class InvalidLockNameError extends Error {
  constructor(
    readonly lockName: string,
    reason: string,
  ) {
    super(`invalid lock name ${JSON.stringify(lockName)}: ${reason}`);
    this.name = 'InvalidLockNameError';
  }
}

/** Returns the name when it is a safe file name on every platform, else throws InvalidLockNameError. */
export function validateLockName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0)
    throw new InvalidLockNameError(String(name ?? ''), 'a name is required');
  if (name.length > 64) throw new InvalidLockNameError(name, 'at most 64 characters');
  if (!LOCK_NAME_PATTERN.test(name)) {
    throw new InvalidLockNameError(
      name,
      'use letters, digits, ".", "-" and "_", starting with a letter or digit and not ending with "."',
    );
  }
  if (WINDOWS_RESERVED_RE.test(name)) throw new InvalidLockNameError(name, 'reserved device name on Windows');
  return name;
}

/** Where one lock keeps its pieces inside the lock folder. */
export interface LockPaths {
  /** The path proper-lockfile locks; never created (we lock with `realpath: false`). */
  target: string;
  /** proper-lockfile's lock directory; it holds only `owner-<token>`, whose name is the generation and whose mtime is the heartbeat (generation.ts). */
  lockDir: string;
  /** Holder metadata, a sibling JSON file written atomically. */
  metadata: string;
  /** Append-only record of takeovers and forced releases. */
  events: string;
  /** Holders in shared mode, each a lock of its own: `<token>.lock/` and `<token>.json` (shared.ts). */
  shared: string;
  /** Waiters, one ticket file each, in arrival order (queue.ts). */
  queue: string;
}

export function lockPaths(dir: string, name: string): LockPaths {
  const base = join(dir, validateLockName(name));
  return {
    target: base,
    lockDir: `${base}.lock`,
    metadata: `${base}.json`,
    events: `${base}.events.jsonl`,
    shared: `${base}.shared`,
    queue: `${base}.queue`,
  };
}

/** The lock name a lock-folder entry belongs to, or undefined for anything else (temp files, gates, events). */
export function lockNameOfEntry(entry: string): string | undefined {
  const m = /^(.+)\.(lock|json|shared|queue)$/.exec(entry);
  if (!m || !m[1]) return undefined;
  return LOCK_NAME_PATTERN.test(m[1]) && !WINDOWS_RESERVED_RE.test(m[1]) ? m[1] : undefined;
}
