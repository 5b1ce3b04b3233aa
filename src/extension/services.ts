// The core objects one window uses (Docker client, monitor, lock manager, background cleanups),
// built from the settings and rebuilt or updated live when they change. Everything they report
// goes into the DashboardModel, which the status bar and the dashboard render.
import type * as vscode from 'vscode';
import type { AutoCleanup, CleanupOptions, CleanupReport, ScheduledCleanup } from '../core/cleanup';
import { loadCleanup, loadRuns } from './lazy';
import { DockerClient } from '../core/docker/client';
import { resolveEndpoint } from '../core/docker/endpoint';
import { LockManager, type LockHandle, type LockStatus } from '../core/lock';
import type { Logger } from '../core/log';
import { readAgentPresence } from '../core/agent/presence';
import { SharedMonitor } from '../core/monitor';
import type { MonitorState, Sample } from '../core/monitor/types';
import { defaultHistoryFile } from '../core/paths';
import type { CleanupReportView, DashboardSettings, LockView } from '../shared/protocol';
import type { DashboardModel } from './model';
import { rerate, type RatingSettings } from '../core/monitor/rerate';
import { runsView } from './runsView';
import type { ExtensionConfig } from './settings';

const LOCK_POLL_MS = 5_000;
const LOCK_REFRESH_STUCK_MS = 15_000;
const ORPHAN_POLL_MS = 60_000;

export function dashboardSettings(c: ExtensionConfig): DashboardSettings {
  return {
    thresholds: c.monitor.thresholds,
    intervalMs: c.monitor.intervalMs,
    historySize: c.monitor.historySize,
    memoryBudgetBytes: c.health.memoryBudgetBytes,
  };
}

export function cleanupOptions(c: ExtensionConfig, extra: Partial<CleanupOptions> = {}): CleanupOptions {
  return {
    olderThanMs: c.cleanup.olderThanMs,
    includeImages: c.cleanup.includeImages,
    testProjectPatterns: c.cleanup.testProjectPatterns,
    protectLabel: c.cleanup.protectLabel,
    ...extra,
  };
}

export function reportView(r: CleanupReport, trigger: string, dryRun = false): CleanupReportView {
  const entry = (e: {
    type: string;
    name: string;
    reason: string;
  }): { kind: string; name: string; reason: string } => ({ kind: e.type, name: e.name, reason: e.reason });
  return {
    finishedAt: new Date().toISOString(),
    trigger,
    dryRun,
    removed: r.removed.map(entry),
    kept: r.kept.map(entry),
    failed: r.failed.map((e) => ({ kind: e.type, name: e.name, error: e.reason })),
    bytesReclaimed: r.bytesReclaimed,
  };
}

export class Services implements vscode.Disposable {
  client?: DockerClient;
  /** One sampler per daemon per machine: this window leads or follows the shared history. */
  monitor?: SharedMonitor;
  locks: LockManager;
  /** Locks this window holds, by name. */
  readonly held = new Map<string, LockHandle>();
  private background: (AutoCleanup | ScheduledCleanup)[] = [];
  private unsubscribe: (() => void)[] = [];
  private lockTimer?: NodeJS.Timeout;
  private orphanTimer?: NodeJS.Timeout;
  private lockRefresh?: { startedAt: number; done: Promise<void> };
  /** The last lock-status failure, logged once until the folder reads again. */
  private lockProblem?: string;
  private disposed = false;
  private paused = false;
  /** Whether the health panel wants the orphan count (it costs list calls: only while the dashboard is open). */
  private countOrphans = false;

  constructor(
    public config: ExtensionConfig,
    private readonly model: DashboardModel,
    private readonly logger: Logger,
    private readonly trusted: () => boolean,
  ) {
    this.locks = this.newLockManager();
    this.startMonitor();
    void this.startBackground();
    this.lockTimer = setInterval(() => void this.refreshLocks(), LOCK_POLL_MS);
    void this.refreshLocks();
  }

  private newLockManager(): LockManager {
    return new LockManager({
      dir: this.config.locks.dir,
      staleMs: this.config.locks.staleMs,
      logger: this.logger,
    });
  }

  private startMonitor(): void {
    const c = this.config;
    let endpointHost = c.endpoint ?? '?';
    try {
      const endpoint = resolveEndpoint({ override: c.endpoint });
      endpointHost = endpoint.host;
      this.client = new DockerClient(endpoint);
    } catch (err) {
      // No client at all (a bad docker context): show it the way an unreachable daemon shows.
      const reason = (err as Error).message;
      this.logger.error(`cannot resolve the Docker endpoint: ${reason}`);
      this.model.setState(
        { status: 'down', endpoint: endpointHost, since: new Date().toISOString(), reason, retryInMs: 0 },
        false,
      );
      return;
    }
    const monitor = new SharedMonitor(this.client, this.monitorSettings(), {
      historyFile: defaultHistoryFile(this.client.endpoint.host),
      logger: this.logger,
      // a running agent is the sampler of this host: the window follows it, and leads again once it stops
      defer: () => this.agentSamples(endpointHost),
    });
    this.monitor = monitor;
    const following = (): boolean => monitor.role === 'follower';
    this.unsubscribe = [
      monitor.onSample((s: Sample) => {
        // read before the sample is announced, so the tooltip it redraws counts them
        this.model.incidents = monitor.incidents.toArray();
        if (this.model.sampleCount === 0) this.reloadHistory();
        else this.model.addSample(rerate(s, this.rating()));
      }),
      monitor.onState((s: MonitorState) => {
        // A leader that pauses leaves "paused" in the shared state file; only this window's own pause counts here.
        if (s.status === 'paused' && !this.paused) return;
        this.model.setState(s, following());
      }),
      monitor.onRole((r) => {
        this.logger.info(`monitor: this window is now the ${r} for ${monitor.client.endpoint.host}`);
        this.model.setState(monitor.state, following());
      }),
    ];
    this.model.setState(monitor.state, following());
    monitor.start();
  }

  /** Whether an agent runs for the endpoint (a lock status read: a stat and a small file, once a tick). */
  private async agentSamples(host: string): Promise<boolean> {
    const p = await readAgentPresence(host).catch(() => undefined);
    const agent = p?.running ? { pid: p.pid ?? 0, since: p.since ?? '' } : undefined;
    if (agent?.pid !== this.model.agent?.pid) {
      this.logger.info(
        agent
          ? `the docker-stability agent (pid ${agent.pid}) samples ${host}: following it`
          : `the agent for ${host} stopped: windows sample again`,
      );
      this.model.setAgent(agent);
    }
    return agent !== undefined;
  }

  private monitorSettings(): {
    intervalMs: number;
    thresholds: RatingSettings['thresholds'];
    capacities: ExtensionConfig['monitor']['capacities'];
    historySize: number;
  } {
    const m = this.config.monitor;
    return {
      intervalMs: m.intervalMs,
      thresholds: m.thresholds,
      capacities: m.capacities,
      historySize: m.historySize,
    };
  }

  private rating(): RatingSettings {
    return { thresholds: this.config.monitor.thresholds, capacities: this.config.monitor.capacities };
  }

  /** The whole history, judged by this window's thresholds and capacities. */
  private reloadHistory(): void {
    const rating = this.rating();
    this.model.setHistory((this.monitor?.history.toArray() ?? []).map((s) => rerate(s, rating)));
  }

  /** Pause and resume apply to this window (a leader hands the sampling over to another window). */
  pause(): void {
    this.paused = true;
    this.monitor?.pause();
  }

  resume(): void {
    this.paused = false;
    const m = this.monitor;
    if (!m) return;
    m.resume();
    // A window that resumes as follower may see no state event until the leader's next change.
    if (m.state.status === 'paused')
      this.model.setState({ status: 'starting', endpoint: m.client.endpoint.host }, m.role === 'follower');
  }

  private async stopMonitor(): Promise<void> {
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
    const m = this.monitor;
    this.monitor = undefined;
    await m?.dispose();
  }

  /** Automatic and scheduled cleanups: only in a trusted workspace (they remove things). */
  private async startBackground(): Promise<void> {
    for (const b of this.background) b.dispose();
    this.background = [];
    const c = this.config;
    const client = this.client;
    if (!client || !this.trusted() || (!c.autoCleanup.enabled && c.scheduledCleanup.everyMs === 0)) return;
    const { AutoCleanup, ScheduledCleanup } = await loadCleanup();
    if (this.disposed || this.client !== client) return;
    const common = {
      cleanup: cleanupOptions(c),
      lock: { manager: this.locks, timeoutMs: 5_000 },
      logger: this.logger,
    };
    const monitor = this.monitor;
    if (c.autoCleanup.enabled && monitor) {
      // Only the leading window reacts to levels: every window sees the same samples.
      const leaderSamples = {
        onSample: (cb: (s: Sample) => void) =>
          monitor.onSample((s) => monitor.role === 'leader' && cb(rerate(s, this.rating()))),
      };
      this.background.push(
        new AutoCleanup(leaderSamples, client, {
          ...common,
          level: c.autoCleanup.level,
          cooldownMs: c.autoCleanup.cooldownMs,
          onReport: (r) => this.model.setCleanup(reportView(r, `automatic at ${c.autoCleanup.level}`)),
        }),
      );
    }
    if (c.scheduledCleanup.everyMs > 0) {
      this.background.push(
        new ScheduledCleanup(client, {
          ...common,
          everyMs: c.scheduledCleanup.everyMs,
          onReport: (r) => this.model.setCleanup(reportView(r, 'scheduled')),
        }),
      );
    }
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
    if (prev.locks.dir !== next.locks.dir || prev.locks.staleMs !== next.locks.staleMs) {
      this.locks = this.newLockManager();
      this.logger.info(`locks in ${this.locks.dir} (stale after ${next.locks.staleMs / 1000} s)`);
      void this.refreshLocks();
    }
    if (prev.endpoint !== next.endpoint || !this.monitor) {
      await this.stopMonitor();
      this.model.setHistory([]);
      this.startMonitor();
      if (this.paused) this.monitor?.pause();
    } else {
      for (const p of this.monitor.updateSettings(this.monitorSettings()))
        this.logger.warn(`monitor settings: ${p}`);
      // New thresholds or capacities apply to what is already on screen, not only to the next sample.
      this.reloadHistory();
    }
    await this.startBackground();
  }

  /**
   * Re-reads the lock folder (cheap: a directory listing and a few stats). Calls in flight are
   * shared, but one that has not finished after LOCK_REFRESH_STUCK_MS no longer holds the others
   * back: it is reported once and a new read starts. A failure is logged once per distinct reason.
   */
  refreshLocks(): Promise<void> {
    const inFlight = this.lockRefresh;
    if (inFlight && Date.now() - inFlight.startedAt < LOCK_REFRESH_STUCK_MS) return inFlight.done;
    if (inFlight)
      this.logger.warn(
        `lock status: reading ${this.locks.dir} has not finished after ${Math.round((Date.now() - inFlight.startedAt) / 1000)} s; reading it again`,
      );
    const locks = this.locks;
    const refresh: { startedAt: number; done: Promise<void> } = {
      startedAt: Date.now(),
      done: Promise.resolve(),
    };
    refresh.done = (async () => {
      try {
        const status = await locks.status();
        if (this.lockProblem !== undefined) this.logger.info(`lock status: ${locks.dir} reads again`);
        this.lockProblem = undefined;
        // A read from a lock folder the settings have since replaced is no news.
        if (!this.disposed && locks === this.locks)
          this.model.setLocks(status.map((st) => this.lockView(st)));
      } catch (err) {
        const problem = (err as Error).message;
        if (problem !== this.lockProblem) this.logger.warn(`lock status: ${problem}`);
        this.lockProblem = problem;
      } finally {
        if (this.lockRefresh === refresh) this.lockRefresh = undefined;
      }
    })();
    this.lockRefresh = refresh;
    return refresh.done;
  }

  private lockView(s: LockStatus): LockView {
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
    };
  }

  /**
   * Starts or stops what only the dashboard shows: the orphan count (it costs list calls) and
   * the run records (a file read), refreshed once a minute while the dashboard is open.
   */
  setOrphanCounting(on: boolean): void {
    this.countOrphans = on;
    clearInterval(this.orphanTimer);
    this.orphanTimer = undefined;
    if (!on) return;
    const refresh = (): void => {
      void this.countOrphansNow();
      void this.refreshRuns();
    };
    refresh();
    this.orphanTimer = setInterval(refresh, ORPHAN_POLL_MS);
  }

  /** Predictions and run targets from the run records (none yet: the panels say so). */
  async refreshRuns(): Promise<void> {
    try {
      const { RunStore } = await loadRuns();
      const records = await new RunStore(undefined, { logger: this.logger }).list();
      if (this.disposed) return;
      const { predictions, runs } = runsView(records, this.model.latest, this.config.monitor.thresholds);
      this.model.setRuns(predictions, runs);
    } catch (err) {
      this.logger.debug(`run records: ${(err as Error).message}`);
    }
  }

  async countOrphansNow(): Promise<void> {
    const client = this.client;
    if (!client || !this.countOrphans || this.monitor?.state.status !== 'up') return;
    try {
      const { planCleanup } = await loadCleanup();
      // What Clean Up Now would remove, age floor included: a young container of a running test is no orphan.
      const plan = await planCleanup(client, cleanupOptions(this.config, { includeImages: false }));
      if (!this.disposed) this.model.setOrphans(plan.remove.filter((e) => e.type === 'container').length);
    } catch (err) {
      this.logger.debug(`orphan count: ${(err as Error).message}`);
    }
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    clearInterval(this.lockTimer);
    clearInterval(this.orphanTimer);
    for (const b of this.background) b.dispose();
    await this.stopMonitor();
    await Promise.all([...this.held.values()].map((h) => h.release().catch(() => undefined)));
    this.held.clear();
  }
}
