import { daemonIdentity, DockerUnreachableError, type DaemonInfo, type DockerClient } from '../docker/client';
import { healthDeadlineMs, IncidentDetector, type HealthcheckTiming } from '../incidents/detector';
import { isIncident, type Incident } from '../incidents/types';
import { silentLogger, type Logger } from '../log';
import { Emitter } from '../util/emitter';
import { costOfRead, ESTIMATED_MS_PER_STATS_CALL, StatsBudgetController, type CpuMark } from './budget';
import { ContainerStatsReader, type ContainerFigure } from './containerStats';
import {
  daemonPids,
  findDaemonProcess,
  processCpuMs,
  processStartMs,
  type DaemonProcess,
} from './daemonProcess';
import { DiskReader } from './disk';
import { buildSample } from './formulas';
import { BoundedLog, SampleHistory } from './history';
import { Inventory, type InventoryCounts } from './inventory';
import { groupByOwner, ownerOf, topConsumers, type ContainerUsage } from './owners';
import { validateMonitorSettings, type MonitorSettings } from './settings';
import type { DiskFigure, MonitorState, Sample, Unsubscribe } from './types';
import { errorMessage } from '../../shared/errors';

export interface MonitorOptions {
  /** Persist history here (JSON Lines); without it history lives in memory only. */
  historyFile?: string;
  logger?: Logger;
  /** Relist containers, networks and volumes at least this often (events cover the rest). */
  fallbackPollMs?: number;
  /** Longest wait between reconnection attempts while the daemon is down. */
  maxBackoffMs?: number;
  /** Persist incidents here (JSON Lines); default: next to the history file (see incidentsFileFor). */
  incidentsFile?: string;
}

/** Incidents kept (in memory and in the file): rare events, so months of them on a test host. */
export const INCIDENT_LOG_SIZE = 500;

/** The bounded incident log, read from and appended to `file` when given. */
export function openIncidentLog(file: string | undefined, logger?: Logger): BoundedLog<Incident> {
  return new BoundedLog(INCIDENT_LOG_SIZE, { file, logger, what: 'incidents', isValid: isIncident });
}

/** The incidents file that goes with a history file: `<endpoint>.jsonl` -> `<endpoint>.incidents.jsonl`. */
export function incidentsFileFor(historyFile: string): string {
  return historyFile.replace(/\.jsonl$/, '') + '.incidents.jsonl';
}

const INFO_TTL_MS = 5 * 60_000;
/** Containers in `starting` health inspected per sample at most (each once, for its healthcheck). */
const HEALTH_INSPECTS_PER_SAMPLE = 8;

/**
 * Per-container figures joined with the names and labels the container list already gave:
 * who uses what costs no daemon call on either path.
 */
function usageBreakdown(
  figures: readonly ContainerFigure[],
  counts: InventoryCounts,
  top: number,
): Pick<Sample, 'consumers' | 'owners'> {
  const all: ContainerUsage[] = figures.map((f) => {
    const d = counts.details.get(f.id);
    return {
      id: f.id.slice(0, 12),
      name: d?.name ?? f.id.slice(0, 12),
      owner: ownerOf(d?.labels),
      memoryBytes: f.memoryBytes,
      cpuPercent: Math.round(f.cpuPercent * 100) / 100,
    };
  });
  return { consumers: topConsumers(all, top), owners: groupByOwner(all) };
}

/**
 * Samples one daemon on an interval: memory, CPU, containers, networks and volumes, each rated
 * against thresholds. One sample is in flight at a time (concurrent callers share it),
 * subscribers receive every sample in order, a dead daemon becomes a `down` state with the
 * reason and exponential back-off, and `dispose()` stops everything.
 */
export class ResourceMonitor {
  readonly history: SampleHistory;
  readonly incidents: BoundedLog<Incident>;
  private readonly detector: IncidentDetector;
  private readonly incidentEvents: Emitter<Incident>;
  private settings: MonitorSettings;
  private stats: ContainerStatsReader;
  private readonly inventory: Inventory;
  private readonly logger: Logger;
  private readonly maxBackoffMs: number;
  private readonly samples: Emitter<Sample>;
  private readonly states: Emitter<MonitorState>;
  private inFlight: Promise<Sample> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private failures = 0;
  private primed = false;
  private info: { value: DaemonInfo; at: number } | undefined;
  private historyLoaded: Promise<unknown> | undefined;
  private _state: MonitorState;
  /** The local dockerd (undefined: not looked for yet; null: not a process of this machine). */
  private daemonProc: DaemonProcess | null | undefined;
  private disk: DiskReader | undefined;
  private budget: StatsBudgetController | undefined;
  /** The last full per-container read, carried by samples between reads when the budget says so. */
  private carried: { figures: ContainerFigure[]; failed: number; at: number } | undefined;
  /** The daemon's CPU at the end of the last full read, over which processes (for the next read's baseline). */
  private lastReadEnd: { mark: CpuMark; pidsKey: string } | undefined;

  constructor(
    readonly client: DockerClient,
    settings: Partial<MonitorSettings> = {},
    opts: MonitorOptions = {},
  ) {
    const { settings: valid, problems } = validateMonitorSettings(settings);
    this.settings = valid;
    this.logger = opts.logger ?? silentLogger;
    this.samples = new Emitter('sample', this.logger);
    this.states = new Emitter('state', this.logger);
    for (const p of problems) this.logger.warn(`monitor settings: ${p}`);
    this.maxBackoffMs = opts.maxBackoffMs ?? 30_000;
    this.history = new SampleHistory(valid.historySize, { file: opts.historyFile, logger: this.logger });
    this.stats = new ContainerStatsReader(client, {
      path: valid.statsPath,
      concurrency: valid.statsConcurrency,
    });
    const incidentsFile =
      opts.incidentsFile ?? (opts.historyFile ? incidentsFileFor(opts.historyFile) : undefined);
    this.incidents = openIncidentLog(incidentsFile, this.logger);
    this.incidentEvents = new Emitter('incident', this.logger);
    this.detector = new IncidentDetector({
      endpoint: client.endpoint.host,
      inspectOomKilled: async (id) => {
        const c = await client.call('inspect container', (api, abortSignal) =>
          api.getContainer(id).inspect({ abortSignal }),
        );
        return c.State.OOMKilled;
      },
    });
    this.inventory = new Inventory(client, {
      fallbackPollMs: opts.fallbackPollMs,
      logger: this.logger,
      onContainerEvent: (e) => void this.detector.onEvent(e).then((found) => this.record(found)),
    });
    this._state = { status: 'starting', endpoint: client.endpoint.host };
  }

  get state(): MonitorState {
    return this._state;
  }

  get currentSettings(): MonitorSettings {
    return this.settings;
  }

  /** List calls made by the event-driven inventory (for tests and benchmarks). */
  get inventoryListCalls(): Readonly<Record<string, number>> {
    return this.inventory.listCalls;
  }

  onSample(cb: (s: Sample) => void): Unsubscribe {
    return this.samples.on(cb);
  }

  onState(cb: (s: MonitorState) => void): Unsubscribe {
    return this.states.on(cb);
  }

  /** Incidents as this monitor detects them (a SharedMonitor follower reads the leader's file instead). */
  onIncident(cb: (i: Incident) => void): Unsubscribe {
    return this.incidentEvents.on(cb);
  }

  private record(found: readonly Incident[]): void {
    if (this._state.status === 'disposed') return;
    for (const i of found) {
      this.incidents.push(i);
      this.incidentEvents.emit(i);
    }
  }

  /** Loads persisted history once (so a reload keeps the charts) and starts sampling. */
  start(): void {
    if (this.running || this._state.status === 'disposed') return;
    this.running = true;
    this.historyLoaded ??= Promise.all([this.history.load(), this.incidents.load()]);
    this.schedule(0);
  }

  pause(): void {
    if (this._state.status === 'disposed') return;
    this.running = false;
    clearTimeout(this.timer);
    this.setState({ status: 'paused', endpoint: this.client.endpoint.host });
  }

  resume(): void {
    if (this._state.status !== 'paused') return;
    this.setState({ status: 'starting', endpoint: this.client.endpoint.host });
    this.start();
  }

  /** Applies new settings live; a bad value is reported and the one in force is kept. */
  updateSettings(partial: Partial<MonitorSettings>): string[] {
    const { settings, problems } = validateMonitorSettings(partial, this.settings);
    if (
      settings.statsPath !== this.settings.statsPath ||
      settings.statsConcurrency !== this.settings.statsConcurrency
    ) {
      // the reader is built from these: a new one (and a fresh priming read for CPU) applies them
      this.stats = new ContainerStatsReader(this.client, {
        path: settings.statsPath,
        concurrency: settings.statsConcurrency,
      });
      this.primed = false;
    }
    if (
      settings.intervalMs !== this.settings.intervalMs ||
      settings.statsBudgetPercent !== this.settings.statsBudgetPercent
    )
      this.budget = undefined;
    if (
      settings.diskIntervalMs !== this.settings.diskIntervalMs ||
      settings.logSizeBytes !== this.settings.logSizeBytes ||
      settings.capacities.diskBytes !== this.settings.capacities.diskBytes
    )
      this.disk = undefined;
    this.settings = settings;
    this.history.resize(settings.historySize);
    if (this.running) this.schedule(0);
    return problems;
  }

  /**
   * Takes a sample now, or joins the one in flight. Rejects with DockerUnreachableError when
   * the daemon cannot be reached (and the state turns `down`).
   */
  sampleNow(): Promise<Sample> {
    this.inFlight ??= this.takeSample().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    if (!this.running) return;
    this.timer = setTimeout(() => void this.tick(), delayMs);
  }

  private async tick(): Promise<void> {
    const started = Date.now();
    try {
      if (this._state.status === 'down') {
        // a failed ping is one more failure: without counting it the back-off never grows
        await this.client.ping().catch((err: unknown) => {
          if (err instanceof DockerUnreachableError) this.markDown(err);
          throw err;
        });
      }
      await this.sampleNow();
      // Keep the cadence, but leave the daemon a breather after a slow sample.
      this.schedule(
        Math.max(this.settings.intervalMs / 4, this.settings.intervalMs - (Date.now() - started)),
      );
    } catch (err) {
      if (!(err instanceof DockerUnreachableError)) this.logger.error(`sample failed: ${errorMessage(err)}`);
      const backoff = Math.min(
        this.maxBackoffMs,
        this.settings.intervalMs * 2 ** Math.min(this.failures, 10),
      );
      if (this._state.status === 'down') this.setState({ ...this._state, retryInMs: backoff });
      this.schedule(backoff);
    }
  }

  private async takeSample(): Promise<Sample> {
    if (this._state.status === 'disposed') throw new Error('monitor is disposed');
    const t0 = performance.now();
    try {
      // Best effort, alongside the sample (a hung daemon then costs one timeout, not two):
      // without events the inventory relists on every sample.
      const connecting = this.inventory.eventsConnected
        ? undefined
        : this.inventory.connect().catch((err: Error) => this.logger.debug(`events: ${err.message}`));
      const [info, counts] = await Promise.all([this.daemonInfo(), this.inventory.read()]);
      await connecting;
      const local = await this.localDaemon();
      const [read, disk] = await Promise.all([
        this.readContainers(counts.running, local),
        this.diskReader(local).figure(info.DockerRootDir, this.settings.thresholds),
      ]);
      this.timeHealthchecks(counts);
      const caps = this.settings.capacities;
      let memory = 0;
      let cpu = 0;
      let cgroup = 0;
      for (const f of read.figures) {
        memory += f.memoryBytes;
        cpu += f.cpuPercent;
        if (f.via === 'cgroup') cgroup++;
      }
      const sample = buildSample({
        endpoint: this.client.endpoint.host,
        daemonId: daemonIdentity(info, this.client.endpoint.host).id,
        sampledAt: new Date(),
        memoryBytes: memory,
        memoryCapacity: caps.memoryBytes ?? info.MemTotal,
        cpuPercent: cpu,
        cpuCapacity: caps.cpuPercent ?? Math.max(1, info.NCPU) * 100,
        containers: counts.containers,
        running: counts.running.length,
        networks: counts.networks,
        volumes: counts.volumes,
        capacities: caps,
        thresholds: this.settings.thresholds,
        source: { cgroup, api: read.figures.length - cgroup, failed: read.failed },
        durationMs: performance.now() - t0,
        ...usageBreakdown(read.figures, counts, this.settings.topConsumers),
        ...(disk ? { disk } : {}),
        ...(read.budget ? { budget: read.budget } : {}),
      });
      this.failures = 0;
      if (this._state.status !== 'up' && this._state.status !== 'paused') {
        this.setState({ status: 'up', endpoint: this.client.endpoint.host, since: sample.sampledAt });
      }
      if ((this._state as MonitorState).status === 'disposed') return sample;
      await this.historyLoaded;
      this.detector.observeSample(sample);
      if (local) this.record(this.detector.observeDaemonStart(local.startedAtMs));
      this.record(this.detector.checkHealthDeadlines());
      this.history.push(sample);
      this.samples.emit(sample);
      return sample;
    } catch (err) {
      if (err instanceof DockerUnreachableError) this.markDown(err);
      throw err;
    }
  }

  /**
   * Per-container figures. Through the API the budget decides: a full read when due (its
   * cost measured: the local dockerd's, containerd's and shims' CPU from /proc, else estimated per
   * call), otherwise the last full read's figures for the containers still running, plus a
   * read of only the containers it did not cover (events keep the list current).
   */
  private async readContainers(
    running: readonly string[],
    local: DaemonProcess | undefined,
  ): Promise<{ figures: ContainerFigure[]; failed: number; budget?: Sample['budget'] }> {
    const now = Date.now();
    const carried = this.carried;
    if (this.budget && carried && !this.budget.due(now)) {
      const live = new Set(running);
      const kept = carried.figures.filter((f) => live.has(f.id));
      const have = new Set(kept.map((f) => f.id));
      const fresh = running.filter((id) => !have.has(id));
      const more = fresh.length ? await this.stats.read(fresh, running) : { figures: [], failed: [] };
      this.carried = { ...carried, figures: [...kept, ...more.figures] };
      return {
        figures: this.carried.figures,
        failed: more.failed.length,
        budget: this.budget.state(new Date(carried.at).toISOString()),
      };
    }
    const pids = local ? daemonPids(local.pid) : [];
    const pidsKey = pids.join(',');
    const mark = (): CpuMark | undefined => {
      if (!pids.length) return undefined;
      let cpuMs = 0;
      for (const pid of pids) cpuMs += processCpuMs(pid) ?? 0;
      return { cpuMs, atMs: Date.now() };
    };
    let before = mark();
    let read = await this.stats.read(running);
    if (!this.primed && read.figures.some((f) => !f.hasCpu)) {
      // First sample: CPU needs two readings. The daemon's stats collector ticks once a
      // second, so one-shot frames need about a second between them; cgroup files do not.
      const viaApi = read.figures.some((f) => f.via === 'api');
      await new Promise((r) => setTimeout(r, viaApi ? 1100 : 250));
      before = mark();
      read = await this.stats.read(running);
    }
    this.primed = true;
    const calls = read.figures.filter((f) => f.via === 'api').length + read.failed.length;
    this.carried = { figures: read.figures, failed: read.failed.length, at: now };
    if (calls === 0) return { figures: read.figures, failed: read.failed.length };
    this.budget ??= new StatsBudgetController(this.settings.statsBudgetPercent, this.settings.intervalMs);
    const after = mark();
    const previous = this.lastReadEnd?.pidsKey === pidsKey ? this.lastReadEnd.mark : undefined;
    this.lastReadEnd = after ? { mark: after, pidsKey } : undefined;
    this.budget.observe(
      now,
      before && after
        ? { cpuMs: costOfRead(before, after, previous), measure: 'daemon-cpu' }
        : { cpuMs: calls * ESTIMATED_MS_PER_STATS_CALL, measure: 'estimate' },
    );
    return {
      figures: read.figures,
      failed: read.failed.length,
      budget: this.budget.state(new Date(now).toISOString()),
    };
  }

  /**
   * The dockerd behind a local socket on Linux, looked for once (and again after an outage:
   * a restarted daemon is a new process); its start time is read on every sample.
   */
  private async localDaemon(): Promise<DaemonProcess | undefined> {
    const socket = this.client.endpoint.socketPath;
    if (this.daemonProc === undefined) {
      this.daemonProc =
        socket && process.platform === 'linux' ? ((await findDaemonProcess(socket)) ?? null) : null;
    } else if (this.daemonProc) {
      const startedAtMs = processStartMs(this.daemonProc.pid);
      if (startedAtMs !== this.daemonProc.startedAtMs && socket) {
        // gone, or the pid reused by a new process: find the daemon again
        this.daemonProc = (await findDaemonProcess(socket)) ?? null;
      }
    }
    return this.daemonProc ?? undefined;
  }

  private diskReader(local: DaemonProcess | undefined): DiskReader {
    if (!this.disk)
      this.disk = new DiskReader(this.client, {
        local: local !== undefined,
        everyMs: this.settings.diskIntervalMs,
        logSizeBound: this.settings.logSizeBytes,
        capacityBytes: this.settings.capacities.diskBytes,
        logger: this.logger,
      });
    return this.disk;
  }

  /**
   * Reads `/system/df` (and the log sizes) now rather than at the next rare refresh, e.g.
   * after a cleanup, and returns the disk figure a sample would carry now.
   */
  async refreshDisk(): Promise<DiskFigure | undefined> {
    const info = await this.daemonInfo();
    const reader = this.diskReader(await this.localDaemon());
    await reader.refresh(info.DockerRootDir);
    return reader.figure(info.DockerRootDir, this.settings.thresholds);
  }

  /**
   * Starts timing the healthchecks of containers the list shows `starting`: one inspect each
   * (for its start time and healthcheck), in the background, a few per sample.
   */
  private timeHealthchecks(counts: InventoryCounts): void {
    let budget = HEALTH_INSPECTS_PER_SAMPLE;
    for (const [id, d] of counts.details) {
      if (!d.healthStarting || this.detector.isTimingHealth(id) || budget-- <= 0) continue;
      const container = { id: id.slice(0, 12), name: d.name, owner: ownerOf(d.labels) };
      // timed from now until the inspect answers: a second sample must not inspect it again
      this.detector.timeHealth(id, container, Date.now(), Number.MAX_SAFE_INTEGER);
      void this.client
        .call('inspect container', (api, abortSignal) => api.getContainer(id).inspect({ abortSignal }))
        .then((c) => {
          if (c.State.Health?.Status !== 'starting' || !this.detector.isTimingHealth(id)) return;
          const bound =
            this.settings.healthyWithinMs ||
            healthDeadlineMs((c.Config as { Healthcheck?: HealthcheckTiming }).Healthcheck);
          this.detector.timeHealth(id, container, Date.parse(c.State.StartedAt), bound);
        })
        .catch((err: Error) => this.logger.debug(`inspect ${id.slice(0, 12)}: ${err.message}`));
    }
  }

  private markDown(err: DockerUnreachableError): void {
    this.failures++;
    this.info = undefined;
    this.primed = false;
    this.carried = undefined;
    // disconnect, not dispose: a disposed inventory never reconnects, and would relist on every
    // sample for the rest of the monitor's life once the daemon is back
    this.inventory.disconnect();
    if (this._state.status === 'disposed') return;
    if (this._state.status !== 'down') {
      this.logger.warn(err.message);
      this.setState({
        status: 'down',
        endpoint: this.client.endpoint.host,
        since: new Date().toISOString(),
        reason: err.reason,
        retryInMs: this.settings.intervalMs,
      });
    }
  }

  private async daemonInfo(): Promise<DaemonInfo> {
    if (this.info && Date.now() - this.info.at < INFO_TTL_MS) return this.info.value;
    const value = await this.client.info();
    this.info = { value, at: Date.now() };
    return value;
  }

  private setState(s: MonitorState): void {
    this._state = s;
    this.record(this.detector.onState(s));
    this.states.emit(s);
  }

  /**
   * Stops sampling, closes the events stream and flushes history to disk; with `compact`
   * (default) the history file is rewritten to exactly the in-memory samples.
   */
  async dispose(opts: { compact?: boolean } = {}): Promise<void> {
    if (this._state.status === 'disposed') return;
    this.running = false;
    clearTimeout(this.timer);
    this.inventory.dispose();
    this.setState({ status: 'disposed', endpoint: this.client.endpoint.host });
    this.samples.clear();
    this.states.clear();
    this.incidentEvents.clear();
    await this.inFlight?.catch(() => undefined);
    await Promise.all([this.history.flush(opts.compact ?? true), this.incidents.flush()]);
  }
}
