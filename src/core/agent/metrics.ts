import { promises as fsp } from 'node:fs';
import { Registry, type RegistryContentType } from 'prom-client';
import type { CleanupPlan, CleanupReport, ResourceType } from '../cleanup';
import { levelIndex, RESOURCE_KINDS } from '../levels';
import type { LockManager } from '../lock';
import type { Incident } from '../incidents/types';
import type { MonitorState, Sample } from '../monitor/types';
import { RunStore } from '../runs/records';
import type { ExpositionFormat } from './exposition';
import { defineAgentMetrics, type AgentMetricSet } from './metricDefinitions';

export type CleanupTrigger = 'auto' | 'scheduled' | 'resume';

const RESOURCE_TYPES: readonly ResourceType[] = ['container', 'network', 'volume', 'image'];

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

  /** The metric objects, defined in metricDefinitions.ts. */
  private readonly m: AgentMetricSet;

  constructor(opts: AgentMetricsOptions) {
    this.registry.setDefaultLabels({ endpoint: opts.endpoint });
    this.runs = new RunStore(opts.runsFile);
    this.locks = opts.locks;
    this.m = defineAgentMetrics(this.registry, opts.version, opts.processMetrics ?? true);
  }

  observeSample(s: Sample): void {
    this.m.reachable.set(1);
    for (const k of RESOURCE_KINDS) {
      const f = s.resources[k];
      this.m.used.set({ resource: k }, f.used);
      this.m.capacity.set({ resource: k }, f.capacity);
      this.m.percent.set({ resource: k }, f.percent);
      this.m.resourceLevel.set({ resource: k }, levelIndex(f.level));
    }
    this.m.level.set(levelIndex(s.level));
    this.m.running.set(s.running);
    this.m.samples.inc();
    this.m.sampleDuration.observe(s.durationMs / 1000);
    this.m.sampleSource.set({ via: 'cgroup' }, s.source.cgroup);
    this.m.sampleSource.set({ via: 'api' }, s.source.api);
    this.m.sampleSource.set({ via: 'failed' }, s.source.failed);
    this.m.lastSample.set(Date.parse(s.sampledAt) / 1000);
    if (s.owners) {
      // owners come and go (every run has its own id): only the last sample's are exported
      for (const g of [this.m.ownerMemory, this.m.ownerCpu, this.m.ownerContainers]) g.reset();
      for (const o of s.owners) {
        const labels = { kind: o.owner.kind, owner: o.owner.id };
        this.m.ownerMemory.set(labels, o.memoryBytes);
        this.m.ownerCpu.set(labels, o.cpuPercent);
        this.m.ownerContainers.set(labels, o.containers);
      }
    }
  }

  observeIncident(i: Incident): void {
    this.m.incidents.inc({ kind: i.kind });
  }

  observeState(s: MonitorState): void {
    if (s.status === 'down') this.m.reachable.set(0);
    else if (s.status === 'up') this.m.reachable.set(1);
  }

  observeOrphans(plan: CleanupPlan): void {
    for (const t of RESOURCE_TYPES)
      this.m.orphans.set({ type: t }, plan.remove.filter((e) => e.type === t).length);
  }

  observeCleanup(trigger: CleanupTrigger, outcome: { report: CleanupReport } | { error: unknown }): void {
    if (!('report' in outcome)) {
      this.m.cleanups.inc({ trigger, outcome: 'error' });
      return;
    }
    const r = outcome.report;
    this.m.cleanups.inc({ trigger, outcome: r.failed.length ? 'failed' : 'ok' });
    for (const e of r.removed) this.m.cleanupRemoved.inc({ type: e.type });
    this.m.cleanupFailed.inc(r.failed.length);
    this.m.cleanupBytes.inc(r.bytesReclaimed ?? 0);
    this.m.cleanupDuration.observe({ trigger }, r.durationMs / 1000);
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
    this.m.lockHeld.reset();
    this.m.lockStale.reset();
    this.m.lockAge.reset();
    for (const l of all) {
      const lock = l.name;
      this.m.lockHeld.set({ lock }, l.held ? 1 : 0);
      this.m.lockStale.set({ lock }, l.stale ? 1 : 0);
      if (l.held) this.m.lockAge.set({ lock }, (l.ageMs ?? 0) / 1000);
      // counters from the records: each takeover or forced release counted once, by its time
      this.m.lockTakeovers.inc({ lock }, 0);
      this.m.lockForced.inc({ lock }, 0);
      const takeover = l.holder?.takeover;
      if (takeover && this.firstSight(`t:${lock}:${takeover.at}`)) this.m.lockTakeovers.inc({ lock });
      const forced = l.lastForcedRelease;
      if (forced && this.firstSight(`f:${lock}:${forced.at}`)) this.m.lockForced.inc({ lock });
    }
    for (const { lock, event: e } of await this.locks.acquisitions().catch(() => [])) {
      if (e.waitedMs === undefined || !this.firstSight(`a:${lock}:${e.at}:${e.by.pid}:${e.waitedMs}`))
        continue;
      this.m.lockWait.observe({ lock, mode: e.mode ?? 'exclusive' }, e.waitedMs / 1000);
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
      this.m.runsTotal.inc({ category: rec.category, outcome: rec.exitCode === 0 ? 'success' : 'failure' });
      this.m.runDuration.observe({ category: rec.category }, rec.durationMs / 1000);
    }
    this.seenRuns = ids;
  }
}
