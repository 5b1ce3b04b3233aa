import { daemonIdentity, DockerUnreachableError, type DaemonInfo, type DockerClient } from '../docker/client';
import { IncidentDetector } from '../incidents/detector';
import type { Incident } from '../incidents/types';
import { silentLogger, type Logger } from '../log';
import type { MonitorOptions } from './options';
import { Emitter } from '../util/emitter';
import { BudgetedStatsReader } from './budgetedStats';
import { findDaemonProcess, processStartMs, type DaemonProcess } from './daemonProcess';
import { DiskReader } from './disk';
import { buildSample } from './formulas';
import { timeHealthchecks } from './healthTiming';
import { BoundedLog, SampleHistory } from './history';
import { incidentsFileFor, openIncidentLog } from './incidentLog';
import { Inventory } from './inventory';
import { validateMonitorSettings, type MonitorSettings } from './settings';
import type { DiskFigure, MonitorState, Sample, Unsubscribe } from './types';
import { usageBreakdown } from './usage';
import { errorMessage } from '../../shared/errors';

// These lived here before the incident log had its own module; kept so imports of this module
// (the CLI's `incidents` command, tests) keep working.
export { INCIDENT_LOG_SIZE, incidentsFileFor, openIncidentLog } from './incidentLog';

const INFO_TTL_MS = 5 * 60_000;

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
  private readonly containers: BudgetedStatsReader;
  private readonly inventory: Inventory;
  private readonly logger: Logger;
  private readonly maxBackoffMs: number;
  private readonly samples: Emitter<Sample>;
  private readonly states: Emitter<MonitorState>;
  private inFlight: Promise<Sample> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private failures = 0;
  private info: { value: DaemonInfo; at: number } | undefined;
  private historyLoaded: Promise<unknown> | undefined;
  private _state: MonitorState;
  /** The local dockerd (undefined: not looked for yet; null: not a process of this machine). */
  private daemonProc: DaemonProcess | null | undefined;
  private disk: DiskReader | undefined;
  private readonly readsDisk: boolean;

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
    this.containers = new BudgetedStatsReader(client, valid, {
      cpuPrimeMs: opts.cpuPrimeMs,
      cpuSeed: opts.cpuSeed,
    });
    this.readsDisk = opts.disk ?? true;
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
    this.containers.applySettings(settings);
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
      // Each read starts as soon as what it needs is there: the containers' figures need the
      // list and the local daemon, not /info (the slowest of the daemon's answers). The daemon's
      // process is looked for once the daemon has answered, as a restart must be told from an outage.
      const infoP = this.daemonInfo();
      const countsP = this.inventory.read();
      const localP = countsP.then(() => this.localDaemon());
      const [info, counts, local, read, disk] = await Promise.all([
        infoP,
        countsP,
        localP,
        Promise.all([countsP, localP]).then(([c, l]) => this.containers.read(c.running, l)),
        this.readsDisk
          ? Promise.all([infoP, localP]).then(([i, l]) =>
              this.diskReader(l).figure(i.DockerRootDir, this.settings.thresholds),
            )
          : undefined,
      ]);
      await connecting;
      timeHealthchecks(this.client, this.detector, counts, () => this.settings.healthyWithinMs, this.logger);
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

  private markDown(err: DockerUnreachableError): void {
    this.failures++;
    this.info = undefined;
    this.containers.forget();
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
