// The lock folder as this window sees it: the core's lock manager for the configured folder,
// the locks this window holds, and a poll of the folder's status into the model.
import { LockManager, type LockHandle, type LockStatus } from '../core/lock';
import type { Logger } from '../core/log';
import { lockQueueView, type LockView } from '../shared/protocol';
import type { DashboardModel } from './model';
import type { ExtensionConfig } from './settings';
import { errorMessage } from '../shared/errors';

const LOCK_POLL_MS = 5_000;
const LOCK_REFRESH_STUCK_MS = 15_000;

export class LockService {
  manager: LockManager;
  /** Locks this window holds, by name. */
  readonly held = new Map<string, LockHandle>();
  private timer?: NodeJS.Timeout;
  private refreshing?: { startedAt: number; done: Promise<void> };
  /** The last lock-status failure, logged once until the folder reads again. */
  private problem?: string;
  private disposed = false;

  constructor(
    config: ExtensionConfig['locks'],
    private readonly model: DashboardModel,
    private readonly logger: Logger,
  ) {
    this.manager = this.newManager(config);
  }

  private newManager(c: ExtensionConfig['locks']): LockManager {
    return new LockManager({ dir: c.dir, staleMs: c.staleMs, logger: this.logger });
  }

  /** Starts polling the folder (a directory listing and a few stats every few seconds). */
  start(): void {
    if (this.timer || this.disposed) return;
    this.timer = setInterval(() => void this.refresh(), LOCK_POLL_MS);
    void this.refresh();
  }

  /** A new folder or stale period means a new manager; locks already held keep their own. */
  configure(prev: ExtensionConfig['locks'], next: ExtensionConfig['locks']): void {
    if (prev.dir === next.dir && prev.staleMs === next.staleMs) return;
    this.manager = this.newManager(next);
    this.logger.info(`locks in ${this.manager.dir} (stale after ${next.staleMs / 1000} s)`);
    void this.refresh();
  }

  /**
   * Re-reads the lock folder. Calls in flight are shared, but one that has not finished after
   * LOCK_REFRESH_STUCK_MS no longer holds the others back: it is reported once and a new read
   * starts. A failure is logged once per distinct reason.
   */
  refresh(): Promise<void> {
    const inFlight = this.refreshing;
    if (inFlight && Date.now() - inFlight.startedAt < LOCK_REFRESH_STUCK_MS) return inFlight.done;
    if (inFlight)
      this.logger.warn(
        `lock status: reading ${this.manager.dir} has not finished after ${Math.round((Date.now() - inFlight.startedAt) / 1000)} s; reading it again`,
      );
    const locks = this.manager;
    const refresh: { startedAt: number; done: Promise<void> } = {
      startedAt: Date.now(),
      done: Promise.resolve(),
    };
    refresh.done = (async () => {
      try {
        const status = await locks.status();
        if (this.problem !== undefined) this.logger.info(`lock status: ${locks.dir} reads again`);
        this.problem = undefined;
        // A read from a lock folder the settings have since replaced is no news.
        if (!this.disposed && locks === this.manager) this.model.setLocks(status.map((st) => this.view(st)));
      } catch (err) {
        const problem = errorMessage(err);
        if (problem !== this.problem) this.logger.warn(`lock status: ${problem}`);
        this.problem = problem;
      } finally {
        if (this.refreshing === refresh) this.refreshing = undefined;
      }
    })();
    this.refreshing = refresh;
    return refresh.done;
  }

  private view(s: LockStatus): LockView {
    const mine = s.held && !!s.holder && this.held.get(s.name)?.token === s.holder.token;
    return {
      name: s.name,
      held: s.held,
      stale: s.stale,
      holder: s.holder && {
        user: s.holder.user,
        host: s.holder.host,
        pid: s.holder.pid,
        why: s.holder.why,
        acquiredAt: s.holder.acquiredAt,
      },
      ageMs: s.ageMs,
      mine,
      ...lockQueueView(s.queue),
    };
  }

  /** Stops polling and releases every lock this window holds. */
  async dispose(): Promise<void> {
    this.disposed = true;
    clearInterval(this.timer);
    await Promise.all([...this.held.values()].map((h) => h.release().catch(() => undefined)));
    this.held.clear();
  }
}
