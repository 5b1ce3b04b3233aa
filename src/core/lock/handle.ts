import { promises as fsp } from 'node:fs';
import * as lockfile from 'proper-lockfile';
import type { Logger } from '../log';
import type { Unsubscribe } from '../monitor/types';
import { disown, lockfileFs } from './generation';
import { errCode } from './holders';
import { readMetadata, writeMetadata, type LockHolder } from './metadata';
import type { LockPaths } from './names';
import { processStartTime } from './process';
import type { LockHandle } from './types';
import { errorMessage } from '../../shared/errors';

export class Handle implements LockHandle {
  compromised = false;
  waitedMs = 0;
  contended = false;
  private readonly callbacks = new Set<(err: Error) => void>();
  private released?: Promise<void>;
  unlock?: () => Promise<void>;
  holder?: LockHolder;

  constructor(
    readonly name: string,
    readonly token: string,
    private readonly paths: LockPaths,
    private readonly staleMs: number,
    private readonly endTurn: () => void,
    private readonly logger: Logger,
  ) {}

  onCompromised(cb: (err: Error) => void): Unsubscribe {
    this.callbacks.add(cb);
    return () => this.callbacks.delete(cb);
  }

  /** Called by proper-lockfile's heartbeat; never throws (its default handler would kill the process). */
  compromise(err: Error): void {
    if (this.compromised || this.released) return;
    this.compromised = true;
    this.logger.warn(`lock "${this.name}" was lost while held: ${err.message}`);
    for (const cb of this.callbacks) {
      try {
        cb(err);
      } catch (cbErr) {
        this.logger.error(`lock "${this.name}" onCompromised callback threw: ${errorMessage(cbErr)}`);
      }
    }
  }

  async setProcessGroup(pgid: number): Promise<void> {
    if (!this.holder || this.compromised || this.released) return;
    if (!Number.isSafeInteger(pgid) || pgid <= 1) throw new RangeError(`not a process group: ${pgid}`);
    const pgidStart = processStartTime(pgid);
    this.holder = { ...this.holder, pgid, ...(pgidStart !== undefined ? { pgidStart } : {}) };
    await writeHolder(this.paths, this.name, this.staleMs, this.holder, this.logger);
  }

  async setNeeds(needs: Readonly<Record<string, number>>): Promise<void> {
    if (this.holder?.mode !== 'shared' || this.compromised || this.released) return;
    if (Object.values(needs).some((v) => typeof v !== 'number' || !Number.isFinite(v)))
      throw new RangeError('needs must be finite numbers');
    this.holder = { ...this.holder, needs: { ...needs } };
    await writeHolder(this.paths, this.name, this.staleMs, this.holder, this.logger);
  }

  release(): Promise<void> {
    this.released ??= this.doRelease();
    return this.released;
  }

  private async doRelease(): Promise<void> {
    try {
      if (this.compromised) return;
      try {
        // Removes our generation only (generation.ts): never a lock someone else holds now.
        await this.unlock?.();
      } catch (err) {
        if (!['ERELEASED', 'ENOTACQUIRED', 'ENOENT'].includes(errCode(err) ?? '')) throw err;
      }
      // The metadata last: a lock that could not be removed keeps saying who holds it.
      const read = await readMetadata(this.paths.metadata);
      if (read.state === 'ok' && read.meta.holder.token === this.token)
        await fsp.rm(this.paths.metadata, { force: true });
    } finally {
      disown(this.paths.lockDir, this.token);
      this.endTurn();
    }
  }
}

/** Writes the holder's metadata; a path others made unusable (a directory, a foreign file) costs only the who/why. */
export async function writeHolder(
  paths: LockPaths,
  name: string,
  staleMs: number,
  holder: LockHolder,
  logger: Logger,
): Promise<boolean> {
  try {
    await writeMetadata(paths.metadata, { version: 1, name, lockId: holder.token, staleMs, holder });
    return true;
  } catch (err) {
    logger.warn(
      `lock "${name}": could not write ${paths.metadata} (${errCode(err) ?? errorMessage(err)}); others will see an unknown holder`,
    );
    return false;
  }
}

/** An fs whose rmdir removes nothing: unlocking with it only makes proper-lockfile forget the lock. */
const forgetFs = {
  ...lockfileFs,
  rmdir(_path: string, cb: (err: NodeJS.ErrnoException | null) => void): void {
    cb(null);
  },
};

/**
 * Forgets a lock proper-lockfile still tracks, without touching the disk: stops its heartbeat and
 * keeps its exit hook from removing a directory that now belongs to someone else.
 */
export async function abandon(paths: LockPaths, token: string): Promise<void> {
  disown(paths.lockDir, token);
  await lockfile
    .unlock(paths.target, { realpath: false, lockfilePath: paths.lockDir, fs: forgetFs })
    .catch(() => undefined);
}
