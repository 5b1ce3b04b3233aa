import { watch, type FSWatcher } from 'node:fs';

/**
 * Sleeps between acquisition attempts, waking early when the watched lock entry changes (the
 * holder released). fs.watch (inotify, FSEvents, ReadDirectoryChangesW) hands the lock over in
 * milliseconds instead of a retry interval; where it is unavailable or silent (network file
 * systems, watch limits) the timed retries still work on their own.
 */
export class ReleaseWaker {
  private watcher?: FSWatcher;
  private pending?: () => void;
  private changed = false;

  constructor(dir: string, entry?: string) {
    try {
      this.watcher = watch(dir, { persistent: false }, (_event, filename) => {
        // Some platforms give no file name: then any change may be ours.
        if (entry !== undefined && filename && filename.toString() !== entry) return;
        this.changed = true;
        this.pending?.();
      });
      this.watcher.on('error', () => this.close());
    } catch {
      this.watcher = undefined;
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
    this.watcher?.close();
    this.watcher = undefined;
  }
}
