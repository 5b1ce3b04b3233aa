// What only the dashboard shows and what costs something to read: the orphan count (list
// calls) and the run records (a file read), refreshed once a minute while the dashboard is open.
import type { DockerClient } from '../core/docker/client';
import type { Logger } from '../core/log';
import type { MonitorState } from '../core/monitor/types';
import { loadCleanup, loadRuns } from './lazy';
import type { DashboardModel } from './model';
import { runsView } from './runsView';
import { cleanupOptions } from './serviceOptions';
import type { ExtensionConfig } from './settings';
import { errorMessage } from '../shared/errors';

const ORPHAN_POLL_MS = 60_000;

export interface FeedSources {
  config(): ExtensionConfig;
  client(): DockerClient | undefined;
  monitorState(): MonitorState | undefined;
}

export class DashboardFeeds {
  private timer?: NodeJS.Timeout;
  private active = false;
  private disposed = false;

  constructor(
    private readonly model: DashboardModel,
    private readonly sources: FeedSources,
    private readonly logger: Logger,
  ) {}

  /** On while the dashboard is open: reads now, then once a minute. */
  setActive(on: boolean): void {
    this.active = on;
    clearInterval(this.timer);
    this.timer = undefined;
    if (!on || this.disposed) return;
    const refresh = (): void => {
      void this.countOrphans();
      void this.refreshRuns();
    };
    refresh();
    this.timer = setInterval(refresh, ORPHAN_POLL_MS);
  }

  /** Predictions and run targets from the run records (none yet: the panels say so). */
  async refreshRuns(): Promise<void> {
    try {
      const { RunStore } = await loadRuns();
      const records = await new RunStore(undefined, { logger: this.logger }).list();
      if (this.disposed) return;
      const thresholds = this.sources.config().monitor.thresholds;
      const { predictions, runs } = runsView(records, this.model.latest, thresholds);
      this.model.setRuns(predictions, runs);
    } catch (err) {
      this.logger.debug(`run records: ${errorMessage(err)}`);
    }
  }

  async countOrphans(): Promise<void> {
    const client = this.sources.client();
    if (!client || !this.active || this.sources.monitorState()?.status !== 'up') return;
    try {
      const { planCleanup } = await loadCleanup();
      // What Clean Up Now would remove, age floor included: a young container of a running test is no orphan.
      const opts = cleanupOptions(this.sources.config(), { includeImages: false });
      const plan = await planCleanup(client, opts);
      if (!this.disposed) this.model.setOrphans(plan.remove.filter((e) => e.type === 'container').length);
    } catch (err) {
      this.logger.debug(`orphan count: ${errorMessage(err)}`);
    }
  }

  dispose(): void {
    this.disposed = true;
    clearInterval(this.timer);
  }
}
