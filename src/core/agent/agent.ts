import { createServer, type Server } from 'node:http';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { planCleanup, type CleanupOptions, type CleanupReport } from '../cleanup';
import type { DockerClient } from '../docker/client';
import type { Level } from '../levels';
import { LockManager, type LockHandle } from '../lock';
import { silentLogger, type Logger } from '../log';
import { SharedMonitor, type MonitorRole } from '../monitor/shared';
import type { MonitorSettings } from '../monitor/settings';
import type { MonitorState } from '../monitor/types';
import { defaultHistoryFile, stateDir } from '../paths';
import { defaultRunsFile } from '../runs/records';
import { AgentCleanups, type CleanupJournal } from './cleanups';
import { EXPOSITION_CONTENT_TYPE, negotiateExposition, type ExpositionFormat } from './exposition';
import { AgentMetrics, type CleanupTrigger } from './metrics';
import { agentFile, claimAgent, metricsUrl } from './presence';
import type { AgentSettings, ListenAddress } from './settings';
import { errorMessage } from '../../shared/errors';

/** What the agent reports, one event at a time (the CLI prints each as one line). */
export type AgentEvent =
  | { event: 'started'; endpoint: string; pid: number; metricsUrl?: string }
  | { event: 'role'; role: MonitorRole }
  | { event: 'daemon-up'; endpoint: string }
  | { event: 'daemon-down'; endpoint: string; reason: string; retryInMs: number }
  | { event: 'cleanup-started'; trigger: CleanupTrigger; level?: Level }
  | {
      event: 'cleanup-done';
      trigger: CleanupTrigger;
      removed: number;
      kept: number;
      failed: number;
      bytesReclaimed?: number;
      durationMs: number;
    }
  | { event: 'cleanup-error'; trigger: CleanupTrigger; message: string }
  | { event: 'cleanup-interrupted'; trigger: CleanupTrigger; startedAt: string; pid: number }
  | { event: 'orphans'; count: number }
  | { event: 'stopping'; reason: string }
  | { event: 'stopped' };

export interface AgentOptions {
  settings: AgentSettings;
  monitor?: Partial<MonitorSettings>;
  /** Which resources cleanup passes and orphan counts consider (age floor, scope, patterns). */
  cleanup?: CleanupOptions;
  version: string;
  /** The environment locks to report and the cleanup lock's folder (default folder otherwise). */
  locks?: LockManager;
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  onEvent?(e: AgentEvent): void;
}

/**
 * The headless agent: one per endpoint per host. It leads the shared sampler (windows and
 * terminals on the host follow its history file), cleans up at the configured level and on a
 * schedule, counts orphans, and serves Prometheus metrics. `stop()` waits for a cleanup pass in
 * flight, flushes the history and releases the agent lock.
 */
export class Agent {
  private readonly logger: Logger;
  private readonly monitor: SharedMonitor;
  private readonly cleanups: AgentCleanups;
  private readonly metrics: AgentMetrics;
  private readonly env: NodeJS.ProcessEnv;
  private handle: LockHandle | undefined;
  private server: Server | undefined;
  private scanTimer: NodeJS.Timeout | undefined;
  private scanning = false;
  private lastOrphans = -1;
  private stopping: Promise<void> | undefined;

  constructor(
    readonly client: DockerClient,
    private readonly opts: AgentOptions,
  ) {
    this.env = opts.env ?? process.env;
    this.logger = opts.logger ?? silentLogger;
    const host = client.endpoint.host;
    const locks = opts.locks ?? new LockManager({ logger: this.logger });
    this.monitor = new SharedMonitor(client, opts.monitor ?? {}, {
      historyFile: defaultHistoryFile(host, this.env),
      leaderDir: join(stateDir(this.env), 'leaders'),
      logger: this.logger,
    });
    this.metrics = new AgentMetrics({
      endpoint: host,
      version: opts.version,
      runsFile: defaultRunsFile(this.env),
      locks,
    });
    this.cleanups = new AgentCleanups(client, {
      settings: opts.settings,
      cleanup: opts.cleanup ?? {},
      locks,
      journalFile: agentFile(host, 'cleanup', this.env),
      logger: this.logger,
      onStart: (trigger, level) =>
        this.emit({ event: 'cleanup-started', trigger, ...(level ? { level } : {}) }),
      onDone: (trigger, outcome) => this.cleanupDone(trigger, outcome),
      onInterrupted: (j: CleanupJournal) => this.emit({ event: 'cleanup-interrupted', ...j }),
    });
  }

  /** The exposition in a format, as /metrics serves it. */
  metricsText(format?: ExpositionFormat): Promise<string> {
    return this.metrics.text(format);
  }

  /**
   * Claims the endpoint (AgentAlreadyRunningError if another agent has it), opens the metrics
   * endpoint, then samples and cleans up until `stop()`.
   */
  async start(): Promise<void> {
    const host = this.client.endpoint.host;
    const metrics = this.opts.settings.metrics;
    const url = metrics ? metricsUrl(metrics) : undefined;
    this.handle = await claimAgent(
      {
        endpoint: host,
        pid: process.pid,
        host: hostname(),
        startedAt: new Date().toISOString(),
        version: this.opts.version,
        ...(url ? { metricsUrl: url } : {}),
      },
      {
        env: this.env,
        logger: this.logger,
        onLost: (err) =>
          this.logger.warn(`agent lock lost (${err.message}): another agent may start for ${host}`),
      },
    );
    try {
      if (metrics) this.server = await this.listen(metrics);
    } catch (err) {
      await this.handle.release();
      throw err;
    }
    this.monitor.onRole((role) => this.emit({ event: 'role', role }));
    this.monitor.onState((s) => this.stateChanged(s));
    this.monitor.onIncident((i) => this.metrics.observeIncident(i));
    this.monitor.onSample((s) => {
      this.metrics.observeSample(s);
      this.cleanups.observe(s.level);
    });
    this.emit({ event: 'started', endpoint: host, pid: process.pid, ...(url ? { metricsUrl: url } : {}) });
    this.monitor.start();
    await this.cleanups.start();
    this.scheduleScan(0);
  }

  private stateChanged(s: MonitorState): void {
    this.metrics.observeState(s);
    if (s.status === 'up') {
      this.emit({ event: 'daemon-up', endpoint: s.endpoint });
      this.scheduleScan(0);
    } else if (s.status === 'down') {
      this.emit({ event: 'daemon-down', endpoint: s.endpoint, reason: s.reason, retryInMs: s.retryInMs });
    }
  }

  private cleanupDone(
    trigger: CleanupTrigger,
    outcome: { report: CleanupReport } | { error: unknown },
  ): void {
    this.metrics.observeCleanup(trigger, outcome);
    if ('report' in outcome) {
      const r = outcome.report;
      this.emit({
        event: 'cleanup-done',
        trigger,
        removed: r.removed.length,
        kept: r.kept.length,
        failed: r.failed.length,
        ...(r.bytesReclaimed !== undefined ? { bytesReclaimed: r.bytesReclaimed } : {}),
        durationMs: r.durationMs,
      });
      this.scheduleScan(0);
    } else {
      this.emit({
        event: 'cleanup-error',
        trigger,
        message: (outcome.error as Error)?.message ?? String(outcome.error),
      });
    }
  }

  /** Orphan counts come from a dry-run plan: list calls only, and never while the daemon is down. */
  private scheduleScan(delayMs: number): void {
    clearTimeout(this.scanTimer);
    if (this.stopping) return;
    this.scanTimer = setTimeout(() => void this.scan(), delayMs);
  }

  private async scan(): Promise<void> {
    if (this.scanning || this.stopping) return;
    if (this.monitor.state.status === 'down') return; // the next 'up' starts a scan
    this.scanning = true;
    try {
      const plan = await planCleanup(this.client, { ...this.opts.cleanup, logger: undefined });
      this.metrics.observeOrphans(plan);
      if (plan.remove.length !== this.lastOrphans) {
        this.lastOrphans = plan.remove.length;
        this.emit({ event: 'orphans', count: plan.remove.length });
      }
    } catch (err) {
      this.logger.debug(`orphan scan: ${errorMessage(err)}`);
    } finally {
      this.scanning = false;
      this.scheduleScan(this.opts.settings.orphanScanMs);
    }
  }

  private listen(a: ListenAddress): Promise<Server> {
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || (req.url ?? '/').split('?')[0] !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: the metrics are at /metrics\n');
        return;
      }
      const format = negotiateExposition(req.headers.accept);
      this.metrics.text(format).then(
        (text) =>
          res.writeHead(200, { 'content-type': EXPOSITION_CONTENT_TYPE[format], vary: 'Accept' }).end(text),
        (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${err.message}\n`),
      );
    });
    return new Promise((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          new Error(
            `cannot serve metrics on ${a.host}:${a.port}: ${err.code === 'EADDRINUSE' ? 'the port is in use' : err.message}`,
          ),
        ),
      );
      server.listen(a.port, a.host, () => resolve(server));
    });
  }

  /** Waits for a cleanup pass in flight, flushes history, closes the endpoint, releases the lock. */
  stop(reason = 'stopped'): Promise<void> {
    this.stopping ??= this.doStop(reason);
    return this.stopping;
  }

  private async doStop(reason: string): Promise<void> {
    this.emit({ event: 'stopping', reason });
    clearTimeout(this.scanTimer);
    await this.cleanups.stop();
    await this.monitor.dispose();
    await new Promise<void>((resolve) => {
      if (!this.server) return resolve();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    await this.handle?.release();
    this.emit({ event: 'stopped' });
  }

  private emit(e: AgentEvent): void {
    try {
      this.opts.onEvent?.(e);
    } catch (err) {
      this.logger.error(`agent event listener threw: ${errorMessage(err)}`);
    }
  }
}
