import { watch, type FSWatcher } from 'node:fs';
import { isAtomicTempName } from '../util/fs';

/** A folder to watch, optionally only for one entry in it. */
export interface WakeTarget {
  dir: string;
  entry?: string;
}

/**
 * How long a wake waits after the change that set it off, so that the rest of a burst (one
 * holder joining is several entries: the turnstile, its lock, its metadata, its ticket leaving)
 * is seen by one attempt rather than one attempt each, in every waiter.
 */
export const WAKE_SETTLE_MS = 10;

/**
 * Sleeps between acquisition attempts, waking early when a watched entry changes (a holder
 * released, a waiter left the queue). fs.watch (inotify, FSEvents, ReadDirectoryChangesW) hands
 * the lock over in milliseconds instead of a retry interval; where it is unavailable or silent
 * (network file systems, watch limits) the timed retries still work on their own. With
 * `renamesOnly`, entries appearing, disappearing or being replaced wake it, heartbeats (mtime
 * changes) do not. Temporary files of `writeFileAtomic` never wake it.
 */
export class ReleaseWaker {
  private readonly watchers: FSWatcher[] = [];
  private pending?: () => void;
  private changed = false;

  constructor(
    targets: string | readonly WakeTarget[],
    entry?: string,
    renamesOnly = false,
    private readonly settleMs = WAKE_SETTLE_MS,
  ) {
    const list = typeof targets === 'string' ? [{ dir: targets, entry }] : targets;
    for (const t of list) {
      try {
        const w = watch(t.dir, { persistent: false }, (event, filename) => {
          if (renamesOnly && event !== 'rename') return;
          // Some platforms give no file name: then any change may be ours.
          const name = filename?.toString();
          if (t.entry !== undefined && name && name !== t.entry) return;
          // A writer's temporary sibling appearing (or being renamed away) changes nothing a
          // waiter reads: the rename onto the real name is the change, and it wakes on its own.
          if (name && isAtomicTempName(name)) return;
          this.changed = true;
          this.pending?.();
        });
        w.on('error', () => w.close());
        this.watchers.push(w);
      } catch {
        // missing folder or no watch support: the timed retries cover it
      }
    }
  }

  /**
   * Until `ms` have passed or, sooner, `settleMs` after a watched change (a change that came while
   * the caller was busy counts from now); rejects when `signal` aborts.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      let settling: NodeJS.Timeout | undefined;
      const done = (): void => {
        clearTimeout(timer);
        clearTimeout(settling);
        signal?.removeEventListener('abort', onAbort);
        this.pending = undefined;
        this.changed = false;
      };
      const onAbort = (): void => {
        done();
        reject(signal?.reason);
      };
      const timer = setTimeout(() => {
        done();
        resolve();
      }, ms);
      this.pending = () => {
        settling ??= setTimeout(() => {
          done();
          resolve();
        }, this.settleMs);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      if (signal?.aborted) onAbort();
      else if (this.changed) this.pending();
    });
  }

  close(): void {
    for (const w of this.watchers.splice(0)) w.close();
  }
}
