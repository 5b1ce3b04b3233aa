/** Why waiting for a turn ended without one. */
export class TurnTimeout extends Error {
  constructor() {
    super('timed out waiting for an earlier caller in this process');
    this.name = 'TurnTimeout';
  }
}

interface Waiter {
  grant(): void;
}

interface Queue {
  held: boolean;
  waiters: Waiter[];
}

/**
 * First-come first-served turns per key inside one process. Callers that want the same lock
 * line up here instead of racing each other through the file system (and failing or spinning).
 */
export class FifoTurns {
  private readonly queues = new Map<string, Queue>();

  /** Whether a caller in this process has the turn for `key` now. */
  isHeld(key: string): boolean {
    return this.queues.get(key)?.held ?? false;
  }

  /** Resolves with a function that ends the turn; rejects on abort or at the deadline. */
  take(key: string, signal?: AbortSignal, deadline = Number.POSITIVE_INFINITY): Promise<() => void> {
    signal?.throwIfAborted();
    let queue = this.queues.get(key);
    if (!queue) {
      queue = { held: false, waiters: [] };
      this.queues.set(key, queue);
    }
    const q = queue;
    let ended = false;
    const end = (): void => {
      if (ended) return;
      ended = true;
      const next = q.waiters.shift();
      if (next) next.grant();
      else {
        q.held = false;
        this.queues.delete(key);
      }
    };
    if (!q.held) {
      q.held = true;
      return Promise.resolve(end);
    }
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const leave = (err: unknown): void => {
        const i = q.waiters.indexOf(waiter);
        if (i >= 0) q.waiters.splice(i, 1);
        cleanup();
        reject(err);
      };
      const onAbort = (): void => leave(signal?.reason);
      const cleanup = (): void => {
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const waiter: Waiter = {
        grant: () => {
          cleanup();
          resolve(end);
        },
      };
      q.waiters.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
      // Timers overflow past 2^31 ms (about 24 days): wait that long as if forever.
      const wait = deadline - Date.now();
      if (wait < 2 ** 31 - 1) timer = setTimeout(() => leave(new TurnTimeout()), Math.max(0, wait));
    });
  }
}
