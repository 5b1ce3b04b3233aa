import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { DockerClient } from '../docker/client';
import { LockManager, type LockHandle } from '../lock';
import { silentLogger, type Logger } from '../log';
import { Emitter } from '../util/emitter';
import { endpointId, stateDir } from '../paths';
import { readFileIfExists, writeFileAtomic } from '../util/fs';
import type { Incident } from '../incidents/types';
import type { BoundedLog, SampleHistory } from './history';
import { ResourceMonitor } from './monitor';
import { rerate } from './rerate';
import type { MonitorSettings } from './settings';
import type { MonitorState, Sample, Unsubscribe } from './types';
import { errorMessage } from '../../shared/errors';

export type MonitorRole = 'leader' | 'follower';

export interface SharedMonitorOptions {
  /** The history file all processes watching this endpoint share. */
  historyFile: string;
  /** Where the leadership lock lives (default `<stateDir>/leaders`, apart from environment locks). */
  leaderDir?: string;
  logger?: Logger;
  /** Relist fallback for the leader's inventory (see ResourceMonitor). */
  fallbackPollMs?: number;
  /**
   * True while another sampler owns this endpoint (a running agent): this process then never
   * leads, and hands the leadership over if it holds it. Asked once a tick.
   */
  defer?: () => Promise<boolean>;
}

/**
 * One sampler per daemon per machine, however many windows or terminals watch it: the process
 * that holds the leadership lock samples and appends to the shared history file; the others
 * follow that file and re-emit the leader's samples, costing the daemon nothing. When the
 * leader goes away its lock goes stale and a follower takes over. Per-window polling is a known
 * complaint about Docker tooling (vscode-docker #1225).
 */
export class SharedMonitor {
  private readonly inner: ResourceMonitor;
  private readonly leaders: LockManager;
  private readonly lockName: string;
  private readonly stateFile: string;
  private readonly logger: Logger;
  private readonly samples: Emitter<Sample>;
  private readonly states: Emitter<MonitorState>;
  private readonly roles: Emitter<MonitorRole>;
  private handle: LockHandle | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private disposed = false;
  private lastSeen = '';
  private lastFileStamp = '';
  private lastIncidentsStamp = '';
  private followerState: MonitorState | undefined;
  private _role: MonitorRole = 'follower';
  private ticks = 0;
  /** Paused by its owner (not merely a follower whose inner monitor is idle). */
  private paused = false;

  constructor(
    readonly client: DockerClient,
    settings: Partial<MonitorSettings>,
    private readonly opts: SharedMonitorOptions,
  ) {
    this.logger = opts.logger ?? silentLogger;
    this.samples = new Emitter('sample', this.logger);
    this.states = new Emitter('state', this.logger);
    this.roles = new Emitter('role', this.logger);
    this.inner = new ResourceMonitor(client, settings, {
      historyFile: opts.historyFile,
      logger: this.logger,
      fallbackPollMs: opts.fallbackPollMs,
    });
    // A follower until it leads: only the leader writes the shared history file.
    this.inner.history.persist = false;
    this.inner.incidents.persist = false;
    const interval = this.inner.currentSettings.intervalMs;
    this.leaders = new LockManager({
      dir: opts.leaderDir ?? join(stateDir(), 'leaders'),
      staleMs: Math.max(10_000, interval * 3),
      logger: this.logger,
    });
    this.lockName = `monitor-${endpointId(client.endpoint.host)}`;
    this.stateFile = `${opts.historyFile}.state.json`;
    this.inner.onSample((s) => {
      this.lastSeen = s.sampledAt;
      this.samples.emit(s);
    });
    this.inner.onState((s) => {
      if (this._role !== 'leader') return;
      this.states.emit(s);
      // Pausing or closing is this window's own business: the next leader reports the daemon.
      if (s.status === 'paused' || s.status === 'disposed') return;
      void writeFileAtomic(this.stateFile, JSON.stringify(s)).catch(() => undefined);
    });
  }

  get role(): MonitorRole {
    return this._role;
  }

  get history(): SampleHistory {
    return this.inner.history;
  }

  /** The incidents recorded for this endpoint (a follower reloads the leader's file as it changes). */
  get incidents(): BoundedLog<Incident> {
    return this.inner.incidents;
  }

  get state(): MonitorState {
    if (this._role === 'leader' || this.paused || this.inner.state.status === 'disposed') {
      return this.inner.state;
    }
    return this.followerState ?? { status: 'starting', endpoint: this.client.endpoint.host };
  }

  get currentSettings(): MonitorSettings {
    return this.inner.currentSettings;
  }

  onSample(cb: (s: Sample) => void): Unsubscribe {
    return this.samples.on(cb);
  }

  onState(cb: (s: MonitorState) => void): Unsubscribe {
    return this.states.on(cb);
  }

  /** Incidents this process detects while it leads (followers read them from `incidents`). */
  onIncident(cb: (i: Incident) => void): Unsubscribe {
    return this.inner.onIncident((i) => this._role === 'leader' && cb(i));
  }

  onRole(cb: (r: MonitorRole) => void): Unsubscribe {
    return this.roles.on(cb);
  }

  start(): void {
    if (this.running || this.disposed) return;
    this.running = true;
    void this.cycle();
  }

  pause(): void {
    this.paused = true;
    this.running = false;
    clearTimeout(this.timer);
    this.inner.pause();
    this.states.emit(this.inner.state);
    void this.stepDown();
  }

  resume(): void {
    if (this.disposed) return;
    this.paused = false;
    this.inner.resume();
    if (this._role === 'follower') this.inner.pause();
    this.start();
  }

  updateSettings(partial: Partial<MonitorSettings>): string[] {
    return this.inner.updateSettings(partial);
  }

  /** A fresh sample: the leader's latest if recent enough, else one taken now. */
  async sampleNow(): Promise<Sample> {
    const latest = this.inner.history.latest();
    const fresh =
      latest && Date.now() - Date.parse(latest.sampledAt) < this.inner.currentSettings.intervalMs * 2;
    if (this._role === 'follower' && fresh && latest) return latest;
    return this.inner.sampleNow();
  }

  /** Leader: nothing to do (the inner monitor samples). Follower: pick up new samples, try to lead. */
  private async cycle(): Promise<void> {
    if (!this.running || this.disposed) return;
    try {
      const deferred = (await this.opts.defer?.().catch(() => false)) ?? false;
      if (this._role === 'leader' && deferred) await this.handOver();
      if (this._role === 'follower') {
        // Try for leadership now and then (every third tick): a dead leader's lock goes stale.
        if (this.ticks++ % 3 === 0 && !deferred && (await this.tryLead())) {
          if (!this.opts.defer) return;
        } else await this.follow();
      }
    } catch (err) {
      this.logger.debug(`shared monitor: ${errorMessage(err)}`);
    }
    // A leader that may have to defer keeps asking; otherwise only followers tick.
    if (this.running && !this.disposed && (this._role === 'follower' || this.opts.defer)) {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.cycle(), this.inner.currentSettings.intervalMs);
    }
  }

  private async tryLead(): Promise<boolean> {
    let handle: LockHandle;
    try {
      handle = await this.leaders.acquire(this.lockName, {
        timeoutMs: 0,
        why: `monitor leader for ${this.client.endpoint.host}`,
        onCompromised: () => {
          this.logger.warn('monitor leadership lost; following the new leader');
          this.handle = undefined;
          this.setRole('follower');
          this.inner.pause();
          void this.cycle();
        },
      });
    } catch {
      return false;
    }
    if (this.disposed || !this.running) {
      await handle.release();
      return false;
    }
    this.handle = handle;
    // continue the shared history and incidents where the last leader left them
    await Promise.all([this.inner.history.load(), this.inner.incidents.load()]);
    this.setRole('leader');
    if (this.inner.state.status === 'paused') this.inner.resume();
    else this.inner.start();
    return true;
  }

  private async follow(): Promise<void> {
    const file = this.opts.historyFile;
    const stamp = await fileStamp(file);
    if (stamp && stamp !== this.lastFileStamp) {
      this.lastFileStamp = stamp;
      await this.inner.history.load({ follower: true });
      // What was recorded before this follower started is history, not news.
      if (!this.lastSeen) this.lastSeen = this.inner.history.latest()?.sampledAt ?? '';
      for (const s of this.inner.history.toArray()) {
        if (s.sampledAt > this.lastSeen) {
          this.lastSeen = s.sampledAt;
          // The leader rated it by its own thresholds and capacities: judge it by ours.
          this.samples.emit(rerate(s, this.inner.currentSettings));
        }
      }
    }
    const incidentsFile = this.inner.incidents.file;
    const iStamp = incidentsFile ? await fileStamp(incidentsFile) : '';
    if (iStamp && iStamp !== this.lastIncidentsStamp) {
      this.lastIncidentsStamp = iStamp;
      await this.inner.incidents.load({ follower: true });
    }
    const stateText = await readFileIfExists(this.stateFile).catch(() => undefined);
    if (stateText) {
      try {
        const st = JSON.parse(stateText) as MonitorState;
        if (
          st &&
          typeof st.status === 'string' &&
          JSON.stringify(st) !== JSON.stringify(this.followerState)
        ) {
          this.followerState = st;
          this.states.emit(st);
        }
      } catch {
        // a torn state file: the next write replaces it
      }
    }
  }

  /** Another sampler owns the endpoint now: stop sampling and follow it. */
  private async handOver(): Promise<void> {
    this.logger.info(`another sampler owns ${this.client.endpoint.host}: following it`);
    this.setRole('follower');
    this.inner.pause();
    await this.stepDown();
  }

  private async stepDown(): Promise<void> {
    const h = this.handle;
    this.handle = undefined;
    if (h) await h.release().catch(() => undefined);
    this.setRole('follower');
  }

  private setRole(r: MonitorRole): void {
    if (this._role === r) return;
    this._role = r;
    this.inner.history.persist = r === 'leader';
    this.inner.incidents.persist = r === 'leader';
    this.roles.emit(r);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.running = false;
    clearTimeout(this.timer);
    // Only the leader compacts the shared file: a follower's copy may lag behind it.
    await this.inner.dispose({ compact: this._role === 'leader' });
    const h = this.handle;
    this.handle = undefined;
    if (h) await h.release().catch(() => undefined);
    this.samples.clear();
    this.states.clear();
    this.roles.clear();
  }
}

/** Changes when a file is written (mtime and size); empty when it does not exist. */
async function fileStamp(file: string): Promise<string> {
  const stat = await fsp.stat(file).catch(() => undefined);
  return stat ? `${stat.mtimeMs}:${stat.size}` : '';
}
