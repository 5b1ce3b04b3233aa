// The core objects one window uses, each a service with one job: the monitor (client, shared
// sampler, incidents), the lock folder, the background cleanups and the dashboard-only feeds.
// Building them starts nothing; activation calls start(). Settings changes go to each in turn.
import type * as vscode from 'vscode';
import type { DockerClient } from '../core/docker/client';
import type { LockHandle, LockManager } from '../core/lock';
import type { Logger } from '../core/log';
import type { SharedMonitor } from '../core/monitor';
import { BackgroundCleanups } from './backgroundCleanups';
import { DashboardFeeds } from './dashboardFeeds';
import { LockService } from './lockService';
import type { DashboardModel } from './model';
import { MonitorService } from './monitorService';
import { dashboardSettings } from './serviceOptions';
import type { ExtensionConfig } from './settings';

export class Services implements vscode.Disposable {
  readonly monitoring: MonitorService;
  readonly lockService: LockService;
  private readonly cleanups: BackgroundCleanups;
  private readonly feeds: DashboardFeeds;

  constructor(
    public config: ExtensionConfig,
    private readonly model: DashboardModel,
    private readonly logger: Logger,
    trusted: () => boolean,
  ) {
    this.monitoring = new MonitorService(config, model, logger);
    this.lockService = new LockService(config.locks, model, logger);
    this.cleanups = new BackgroundCleanups(model, logger, trusted);
    this.feeds = new DashboardFeeds(
      model,
      {
        config: () => this.config,
        client: () => this.client,
        monitorState: () => this.monitor?.state,
      },
      logger,
    );
  }

  /** Starts sampling, the lock poll and the background cleanups the settings ask for. */
  start(): void {
    this.monitoring.start();
    this.lockService.start();
    void this.restartCleanups();
  }

  get client(): DockerClient | undefined {
    return this.monitoring.client;
  }

  get monitor(): SharedMonitor | undefined {
    return this.monitoring.monitor;
  }

  get locks(): LockManager {
    return this.lockService.manager;
  }

  /** Locks this window holds, by name. */
  get held(): Map<string, LockHandle> {
    return this.lockService.held;
  }

  pause(): void {
    this.monitoring.pause();
  }

  resume(): void {
    this.monitoring.resume();
  }

  refreshLocks(): Promise<void> {
    return this.lockService.refresh();
  }

  /** The orphan count and run records run only while the dashboard is open. */
  setOrphanCounting(on: boolean): void {
    this.feeds.setActive(on);
  }

  countOrphansNow(): Promise<void> {
    return this.feeds.countOrphans();
  }

  refreshRuns(): Promise<void> {
    return this.feeds.refreshRuns();
  }

  private restartCleanups(): Promise<void> {
    return this.cleanups.restart(this.config, {
      client: this.client,
      monitor: this.monitor,
      locks: this.locks,
    });
  }

  /** Applies changed settings without a reload: a new endpoint means a new client and monitor. */
  async applyConfig(next: ExtensionConfig): Promise<void> {
    const prev = this.config;
    this.config = next;
    const t = next.monitor.thresholds;
    this.logger.info(
      `settings applied: thresholds ${t.warning}/${t.critical}/${t.emergency}, interval ${next.monitor.intervalMs} ms`,
    );
    this.model.setSettings(dashboardSettings(next));
    this.lockService.configure(prev.locks, next.locks);
    await this.monitoring.configure(next);
    await this.restartCleanups();
  }

  async dispose(): Promise<void> {
    this.feeds.dispose();
    this.cleanups.dispose();
    await this.monitoring.stop();
    await this.lockService.dispose();
  }
}
