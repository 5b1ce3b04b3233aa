import { watch, type FSWatcher } from 'node:fs';

/** A folder to watch, optionally only for one entry in it. */
export interface WakeTarget {
  dir: string;
  entry?: string;
}

/**
 * Sleeps between acquisition attempts, waking early when a watched entry changes (a holder
 * released, a waiter left the queue). fs.watch (inotify, FSEvents, ReadDirectoryChangesW) hands
 * the lock over in milliseconds instead of a retry interval; where it is unavailable or silent
 * (network file systems, watch limits) the timed retries still work on their own. With
 * `renamesOnly`, entries appearing, disappearing or being replaced wake it, heartbeats (mtime
 * changes) do not.
 */
export class ReleaseWaker {
  private readonly watchers: FSWatcher[] = [];
  private pending?: () => void;
  private changed = false;

  constructor(targets: string | readonly WakeTarget[], entry?: string, renamesOnly = false) {
    const list = typeof targets === 'string' ? [{ dir: targets, entry }] : targets;
    for (const t of list) {
      try {
        const w = watch(t.dir, { persistent: false }, (event, filename) => {
          if (renamesOnly && event !== 'rename') return;
          // Some platforms give no file name: then any change may be ours.
          if (t.entry !== undefined && filename && filename.toString() !== t.entry) return;
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

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.changed) {
      this.changed = false;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
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
        done();
        resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  close(): void {
    for (const w of this.watchers.splice(0)) w.close();
  }
}
