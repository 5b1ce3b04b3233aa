// The Docker client and the shared monitor for the configured endpoint: started explicitly,
// rebuilt when the endpoint changes, and feeding its samples, state and incidents into the model.
import { DockerClient } from '../core/docker/client';
import { resolveEndpoint } from '../core/docker/endpoint';
import type { Incident } from '../core/incidents/types';
import type { Logger } from '../core/log';
import { readAgentPresence } from '../core/agent/presence';
import { SharedMonitor } from '../core/monitor';
import type { MonitorState, Sample } from '../core/monitor/types';
import { defaultHistoryFile } from '../core/paths';
import type { DashboardModel } from './model';
import { rerate, type RatingSettings } from '../core/monitor/rerate';
import type { ExtensionConfig } from './settings';
import { errorMessage } from '../shared/errors';

type MonitorConfig = Pick<ExtensionConfig, 'endpoint' | 'monitor'>;

export class MonitorService {
  client?: DockerClient;
  /** One sampler per daemon per machine: this window leads or follows the shared history. */
  monitor?: SharedMonitor;
  private unsubscribe: (() => void)[] = [];
  private paused = false;
  private readonly incidentListeners = new Set<(i: readonly Incident[]) => void>();

  constructor(
    private config: MonitorConfig,
    private readonly model: DashboardModel,
    private readonly logger: Logger,
  ) {}

  /**
   * Incidents as this window learns them: each one the leader detects at once, and the whole
   * recorded list after every sample (a follower learns the leader's incidents that way).
   */
  onIncidents(cb: (i: readonly Incident[]) => void): () => void {
    this.incidentListeners.add(cb);
    return () => this.incidentListeners.delete(cb);
  }

  private announce(incidents: readonly Incident[]): void {
    for (const l of this.incidentListeners) l(incidents);
  }

  start(): void {
    if (this.monitor) return;
    const c = this.config;
    let endpointHost = c.endpoint ?? '?';
    try {
      const endpoint = resolveEndpoint({ override: c.endpoint });
      endpointHost = endpoint.host;
      this.client = new DockerClient(endpoint);
    } catch (err) {
      // No client at all (a bad docker context): show it the way an unreachable daemon shows.
      const reason = errorMessage(err);
      this.logger.error(`cannot resolve the Docker endpoint: ${reason}`);
      this.model.setState(
        { status: 'down', endpoint: endpointHost, since: new Date().toISOString(), reason, retryInMs: 0 },
        false,
      );
      return;
    }
    const monitor = new SharedMonitor(this.client, this.config.monitor, {
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
        const incidents = monitor.incidents.toArray();
        this.model.setIncidents(incidents);
        if (this.model.sampleCount === 0) this.reloadHistory();
        // SharedMonitor has already judged a followed sample by this window's settings
        else this.model.addSample(s);
        this.announce(incidents);
      }),
      monitor.onIncident((i) => {
        this.model.setIncidents(monitor.incidents.toArray());
        this.announce([i]);
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
    if (this.paused) monitor.pause();
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

  /** A new endpoint means a new client and monitor; other changes apply to the running one. */
  async configure(next: MonitorConfig): Promise<void> {
    const prev = this.config;
    this.config = next;
    if (prev.endpoint !== next.endpoint || !this.monitor) {
      await this.stop();
      this.model.setHistory([]);
      this.start();
      return;
    }
    for (const p of this.monitor.updateSettings(this.config.monitor))
      this.logger.warn(`monitor settings: ${p}`);
    // New thresholds or capacities apply to what is already on screen, not only to the next sample.
    this.reloadHistory();
  }

  async stop(): Promise<void> {
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
    const m = this.monitor;
    this.monitor = undefined;
    this.client = undefined;
    await m?.dispose();
  }
}
