import { promises as fsp } from 'node:fs';
import {
  collectDefaultMetrics,
  Counter,
  Gauge,
  Histogram,
  Registry,
  type RegistryContentType,
} from 'prom-client';
import type { CleanupPlan, CleanupReport, ResourceType } from '../cleanup';
import { levelIndex, RESOURCE_KINDS } from '../levels';
import type { LockManager } from '../lock';
import { INCIDENT_KINDS, type Incident } from '../incidents/types';
import type { MonitorState, Sample } from '../monitor/types';
import { RunStore } from '../runs/records';
import type { ExpositionFormat } from './exposition';

export type CleanupTrigger = 'auto' | 'scheduled' | 'resume';

const RESOURCE_TYPES: readonly ResourceType[] = ['container', 'network', 'volume', 'image'];
const MISNAMED_DEFAULT_METRICS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

export interface AgentMetricsOptions {
  endpoint: string;
  version: string;
  /** Run records to count (the file `run` appends to). */
  runsFile: string;
  /** The environment locks to report. */
  locks: LockManager;
  /** The agent's own process metrics (CPU, RSS, event loop); off in tests that build several registries. */
  processMetrics?: boolean;
}

/**
 * The agent's Prometheus metrics, on prom-client (one registry per agent, never the global
 * one). Samples, orphan scans and cleanups are pushed in as they happen; locks and run records
 * are read from their files when Prometheus scrapes, so an idle agent does no work for them.
 * Levels are numbers: SAFE 0, WARNING 1, CRITICAL 2, EMERGENCY 3.
 */
export class AgentMetrics {
  readonly registry = new Registry<RegistryContentType>();
  private readonly runs: RunStore;
  private readonly locks: LockManager;
  private seenRuns = new Set<string>();
  private runsStamp = '';
  private readonly seenLockEvents = new Set<string>();
  private rendering: Promise<unknown> = Promise.resolve();

  private readonly reachable: Gauge;
  private readonly used: Gauge<'resource'>;
  private readonly capacity: Gauge<'resource'>;
  private readonly percent: Gauge<'resource'>;
  private readonly resourceLevel: Gauge<'resource'>;
  private readonly level: Gauge;
  private readonly running: Gauge;
  private readonly samples: Counter;
  private readonly sampleDuration: Histogram;
  private readonly sampleSource: Gauge<'via'>;
  private readonly lastSample: Gauge;
  private readonly orphans: Gauge<'type'>;
  private readonly cleanups: Counter<'trigger' | 'outcome'>;
  private readonly cleanupRemoved: Counter<'type'>;
  private readonly cleanupFailed: Counter;
  private readonly cleanupBytes: Counter;
  private readonly cleanupDuration: Histogram<'trigger'>;
  private readonly lockHeld: Gauge<'lock'>;
  private readonly lockStale: Gauge<'lock'>;
  private readonly lockAge: Gauge<'lock'>;
  private readonly lockTakeovers: Counter<'lock'>;
  private readonly lockForced: Counter<'lock'>;
  private readonly lockWait: Histogram<'lock' | 'mode'>;
  private readonly runsTotal: Counter<'category' | 'outcome'>;
  private readonly runDuration: Histogram<'category'>;
  private readonly ownerMemory: Gauge<'kind' | 'owner'>;
  private readonly ownerCpu: Gauge<'kind' | 'owner'>;
  private readonly ownerContainers: Gauge<'kind' | 'owner'>;
  private readonly incidents: Counter<'kind'>;

  constructor(opts: AgentMetricsOptions) {
    const r = [this.registry];
    this.registry.setDefaultLabels({ endpoint: opts.endpoint });
    this.runs = new RunStore(opts.runsFile);
    this.locks = opts.locks;
    const info = new Gauge({
      name: 'docker_stability_agent_info',
      help: 'The agent and its version (always 1).',
      labelNames: ['version'],
      registers: r,
    });
    info.set({ version: opts.version }, 1);
    new Gauge({
      name: 'docker_stability_agent_start_time_seconds',
      help: 'When the agent started (Unix time).',
      registers: r,
    }).set(Date.now() / 1000);
    this.reachable = new Gauge({
      name: 'docker_stability_daemon_reachable',
      help: '1 while the daemon answers, 0 while it is unreachable.',
      registers: r,
    });
    this.used = new Gauge({
      name: 'docker_stability_resource_used',
      help: 'Used amount per resource: memory in bytes, cpu in percent of one core, counts in items.',
      labelNames: ['resource'],
      registers: r,
    });
    this.capacity = new Gauge({
      name: 'docker_stability_resource_capacity',
      help: 'Capacity per resource, in the units of docker_stability_resource_used.',
      labelNames: ['resource'],
      registers: r,
    });
    this.percent = new Gauge({
      name: 'docker_stability_resource_percent',
      help: 'Used / capacity x 100 per resource.',
      labelNames: ['resource'],
      registers: r,
    });
    this.resourceLevel = new Gauge({
      name: 'docker_stability_resource_level',
      help: 'Level per resource: 0 SAFE, 1 WARNING, 2 CRITICAL, 3 EMERGENCY.',
      labelNames: ['resource'],
      registers: r,
    });
    this.level = new Gauge({
      name: 'docker_stability_level',
      help: 'Overall level (the worst resource): 0 SAFE, 1 WARNING, 2 CRITICAL, 3 EMERGENCY.',
      registers: r,
    });
    this.running = new Gauge({
      name: 'docker_stability_containers_running',
      help: 'Containers running at the last sample.',
      registers: r,
    });
    this.samples = new Counter({
      name: 'docker_stability_samples_total',
      help: 'Samples seen (taken by this agent or by the sampler it follows).',
      registers: r,
    });
    this.sampleDuration = new Histogram({
      name: 'docker_stability_sample_duration_seconds',
      help: 'Wall time of one sample.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: r,
    });
    this.sampleSource = new Gauge({
      name: 'docker_stability_sample_containers',
      help: 'Containers of the last sample by how they were read: cgroup (free), api (costs the daemon), failed.',
      labelNames: ['via'],
      registers: r,
    });
    this.lastSample = new Gauge({
      name: 'docker_stability_last_sample_timestamp_seconds',
      help: 'When the last sample was taken (Unix time).',
      registers: r,
    });
    this.orphans = new Gauge({
      name: 'docker_stability_orphans',
      help: 'Resources a cleanup pass would remove now, by type (from the last orphan scan).',
      labelNames: ['type'],
      registers: r,
    });
    this.cleanups = new Counter({
      name: 'docker_stability_cleanups_total',
      help: 'Cleanup passes by trigger (auto, scheduled, resume) and outcome (ok, failed removals, error).',
      labelNames: ['trigger', 'outcome'],
      registers: r,
    });
    this.cleanupRemoved = new Counter({
      name: 'docker_stability_cleanup_removed_total',
      help: 'Resources removed by cleanup passes, by type.',
      labelNames: ['type'],
      registers: r,
    });
    this.cleanupFailed = new Counter({
      name: 'docker_stability_cleanup_failed_total',
      help: 'Removals that failed in cleanup passes.',
      registers: r,
    });
    this.cleanupBytes = new Counter({
      name: 'docker_stability_cleanup_reclaimed_bytes_total',
      help: 'Bytes reclaimed by cleanup passes (where the size is known).',
      registers: r,
    });
    this.cleanupDuration = new Histogram({
      name: 'docker_stability_cleanup_duration_seconds',
      help: 'Duration of cleanup passes.',
      labelNames: ['trigger'],
      buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers: r,
    });
    this.lockHeld = new Gauge({
      name: 'docker_stability_lock_held',
      help: '1 while the environment lock is held (stale or not).',
      labelNames: ['lock'],
      registers: r,
    });
    this.lockStale = new Gauge({
      name: 'docker_stability_lock_stale',
      help: '1 while the lock is held by a holder that stopped or died.',
      labelNames: ['lock'],
      registers: r,
    });
    this.lockAge = new Gauge({
      name: 'docker_stability_lock_held_seconds',
      help: 'How long the current holder has held the lock.',
      labelNames: ['lock'],
      registers: r,
    });
    this.lockTakeovers = new Counter({
      name: 'docker_stability_lock_takeovers_total',
      help: 'Takeovers of stale locks, each counted once when the agent first sees it on the holder.',
      labelNames: ['lock'],
      registers: r,
    });
    this.lockForced = new Counter({
      name: 'docker_stability_lock_forced_releases_total',
      help: 'Forced releases, each counted once when the agent first sees its record.',
      labelNames: ['lock'],
      registers: r,
    });
    this.lockWait = new Histogram({
      name: 'docker_stability_lock_wait_seconds',
      help: 'How long each acquisition of an environment lock waited, by mode (from the lock folder).',
      labelNames: ['lock', 'mode'],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300],
      registers: r,
    });
    this.runsTotal = new Counter({
      name: 'docker_stability_runs_total',
      help: 'Recorded test runs by category and outcome (success: exit code 0).',
      labelNames: ['category', 'outcome'],
      registers: r,
    });
    this.runDuration = new Histogram({
      name: 'docker_stability_run_duration_seconds',
      help: 'Duration of recorded test runs by category.',
      labelNames: ['category'],
      buckets: [5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600],
      registers: r,
    });
    const ownerLabels = ['kind', 'owner'] as const;
    this.ownerMemory = new Gauge({
      name: 'docker_stability_owner_memory_bytes',
      help: 'Working-set memory of running containers by owner (kind: run, compose, testcontainers, other).',
      labelNames: ownerLabels,
      registers: r,
    });
    this.ownerCpu = new Gauge({
      name: 'docker_stability_owner_cpu_percent',
      help: 'CPU of running containers by owner, in percent of one core.',
      labelNames: ownerLabels,
      registers: r,
    });
    this.ownerContainers = new Gauge({
      name: 'docker_stability_owner_containers_running',
      help: 'Running containers by owner.',
      labelNames: ownerLabels,
      registers: r,
    });
    this.incidents = new Counter({
      name: 'docker_stability_incidents_total',
      help: 'Incidents detected by kind: oom, restart-loop, unhealthy, daemon-unreachable, daemon-recovered.',
      labelNames: ['kind'],
      registers: r,
    });
    for (const kind of INCIDENT_KINDS) this.incidents.inc({ kind }, 0);
    if (opts.processMetrics ?? true) {
      // The event loop delay histogram samples every 10 ms by default, which alone costs the
      // agent about 0.7% of a core (measured: bench/agent); 100 ms costs under 0.1%.
      collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 100 });
      // prom-client names these three gauges *_total, which `promtool check metrics` rejects
      // (a _total suffix promises a counter); the handle counts are in nodejs_active_* by type anyway.
      for (const n of MISNAMED_DEFAULT_METRICS) this.registry.removeSingleMetric(n);
    }
  }

  observeSample(s: Sample): void {
    this.reachable.set(1);
    for (const k of RESOURCE_KINDS) {
      const f = s.resources[k];
      this.used.set({ resource: k }, f.used);
      this.capacity.set({ resource: k }, f.capacity);
      this.percent.set({ resource: k }, f.percent);
      this.resourceLevel.set({ resource: k }, levelIndex(f.level));
    }
    this.level.set(levelIndex(s.level));
    this.running.set(s.running);
    this.samples.inc();
    this.sampleDuration.observe(s.durationMs / 1000);
    this.sampleSource.set({ via: 'cgroup' }, s.source.cgroup);
    this.sampleSource.set({ via: 'api' }, s.source.api);
    this.sampleSource.set({ via: 'failed' }, s.source.failed);
    this.lastSample.set(Date.parse(s.sampledAt) / 1000);
    if (s.owners) {
      // owners come and go (every run has its own id): only the last sample's are exported
      for (const g of [this.ownerMemory, this.ownerCpu, this.ownerContainers]) g.reset();
      for (const o of s.owners) {
        const labels = { kind: o.owner.kind, owner: o.owner.id };
        this.ownerMemory.set(labels, o.memoryBytes);
        this.ownerCpu.set(labels, o.cpuPercent);
        this.ownerContainers.set(labels, o.containers);
      }
    }
  }

  observeIncident(i: Incident): void {
    this.incidents.inc({ kind: i.kind });
  }

  observeState(s: MonitorState): void {
    if (s.status === 'down') this.reachable.set(0);
    else if (s.status === 'up') this.reachable.set(1);
  }

  observeOrphans(plan: CleanupPlan): void {
    for (const t of RESOURCE_TYPES)
      this.orphans.set({ type: t }, plan.remove.filter((e) => e.type === t).length);
  }

  observeCleanup(trigger: CleanupTrigger, outcome: { report: CleanupReport } | { error: unknown }): void {
    if (!('report' in outcome)) {
      this.cleanups.inc({ trigger, outcome: 'error' });
      return;
    }
    const r = outcome.report;
    this.cleanups.inc({ trigger, outcome: r.failed.length ? 'failed' : 'ok' });
    for (const e of r.removed) this.cleanupRemoved.inc({ type: e.type });
    this.cleanupFailed.inc(r.failed.length);
    this.cleanupBytes.inc(r.bytesReclaimed ?? 0);
    this.cleanupDuration.observe({ trigger }, r.durationMs / 1000);
  }

  /**
   * The exposition in the format asked for (classic text 0.0.4 unless told), after reading locks
   * and new run records. Renders run one at a time: see openMetrics().
   */
  text(format: ExpositionFormat = 'text'): Promise<string> {
    const render = this.rendering.then(async () => {
      await Promise.all([this.readLocks(), this.readRuns()]);
      return format === 'openmetrics' ? this.openMetrics() : this.registry.metrics();
    });
    this.rendering = render.catch(() => undefined);
    return render;
  }

  /**
   * prom-client 15 writes OpenMetrics by renaming each counter in place (`foo_total` becomes
   * `foo`, the family name OpenMetrics wants, with `_total` on the sample); the classic text
   * would then lose the suffix for good (prometheus/client_js#829). The names are put back
   * after the render, and renders never overlap, so each format sees the names it expects.
   */
  private async openMetrics(): Promise<string> {
    const names = this.registry.getMetricsAsArray().map((m) => [m, m.name] as const);
    this.registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    try {
      return await this.registry.metrics();
    } finally {
      this.registry.setContentType(Registry.PROMETHEUS_CONTENT_TYPE);
      for (const [m, name] of names) m.name = name;
    }
  }

  private async readLocks(): Promise<void> {
    const all = await this.locks.status().catch(() => []);
    this.lockHeld.reset();
    this.lockStale.reset();
    this.lockAge.reset();
    for (const l of all) {
      const lock = l.name;
      this.lockHeld.set({ lock }, l.held ? 1 : 0);
      this.lockStale.set({ lock }, l.stale ? 1 : 0);
      if (l.held) this.lockAge.set({ lock }, (l.ageMs ?? 0) / 1000);
      // counters from the records: each takeover or forced release counted once, by its time
      this.lockTakeovers.inc({ lock }, 0);
      this.lockForced.inc({ lock }, 0);
      const takeover = l.holder?.takeover;
      if (takeover && this.firstSight(`t:${lock}:${takeover.at}`)) this.lockTakeovers.inc({ lock });
      const forced = l.lastForcedRelease;
      if (forced && this.firstSight(`f:${lock}:${forced.at}`)) this.lockForced.inc({ lock });
    }
    for (const { lock, event: e } of await this.locks.acquisitions().catch(() => [])) {
      if (e.waitedMs === undefined || !this.firstSight(`a:${lock}:${e.at}:${e.by.pid}:${e.waitedMs}`))
        continue;
      this.lockWait.observe({ lock, mode: e.mode ?? 'exclusive' }, e.waitedMs / 1000);
    }
  }

  private firstSight(key: string): boolean {
    if (this.seenLockEvents.has(key)) return false;
    this.seenLockEvents.add(key);
    return true;
  }

  private async readRuns(): Promise<void> {
    const st = await fsp.stat(this.runs.file).catch(() => undefined);
    const stamp = st ? `${st.mtimeMs}:${st.size}` : '';
    if (stamp === this.runsStamp) return;
    this.runsStamp = stamp;
    // only the ids still in the file are remembered: compaction drops old records, not new ones
    const ids = new Set<string>();
    for (const rec of await this.runs.list()) {
      ids.add(rec.id);
      if (this.seenRuns.has(rec.id)) continue;
      this.runsTotal.inc({ category: rec.category, outcome: rec.exitCode === 0 ? 'success' : 'failure' });
      this.runDuration.observe({ category: rec.category }, rec.durationMs / 1000);
    }
    this.seenRuns = ids;
  }
}
