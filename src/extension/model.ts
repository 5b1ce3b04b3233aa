// What the status bar and the dashboard show, in one place: the monitor adapter and the command
// handlers write here; views subscribe and receive deltas as HostMessages.
import { INCIDENT_TITLES, type Incident } from '../core/incidents/types';
import { forecast, type Forecast } from '../core/monitor/forecast';
import type { MonitorState, Sample } from '../core/monitor/types';
import type {
  CleanupReportView,
  DashboardSettings,
  HealthTarget,
  HostMessage,
  IncidentView,
  LockView,
  PredictionView,
  Snapshot,
} from '../shared/protocol';
import { healthTargets, UnreachableTracker, type RunStats } from './health';
import type { AgentView } from './statusText';
import { ownerLabel } from '../shared/owner';

function incidentView(i: Incident): IncidentView {
  return {
    at: i.at,
    kind: i.kind,
    title: INCIDENT_TITLES[i.kind],
    container: i.container?.name,
    owner: i.container && ownerLabel(i.container.owner),
  };
}

type Listener = (m: HostMessage) => void;

export class DashboardModel {
  private samples: Sample[] = [];
  state: MonitorState = { status: 'starting', endpoint: '?' };
  following = false;
  /** A docker-stability agent samples this endpoint: this window follows it. */
  agent?: AgentView;
  locks: LockView[] = [];
  /** The endpoint's recorded incidents (the monitor's bounded log), oldest first. */
  incidents: readonly Incident[] = [];
  cleanup?: CleanupReportView;
  predictions: PredictionView[] = [];
  private runs: RunStats[] = [];
  private orphans?: number;
  private readonly unreachable = new UnreachableTracker();
  private readonly listeners = new Set<Listener>();

  constructor(
    public settings: DashboardSettings,
    public trusted: boolean,
    private readonly onListenerError: (err: unknown) => void = () => undefined,
  ) {}

  private get historySize(): number {
    return this.settings.historySize;
  }

  onMessage(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /** One failing view must not keep the others (or the caller) from the update. */
  private emit(m: HostMessage): void {
    for (const l of this.listeners) {
      try {
        l(m);
      } catch (err) {
        this.onListenerError(err);
      }
    }
  }

  get latest(): Sample | undefined {
    return this.samples[this.samples.length - 1];
  }

  /** The forecast per resource from the recent samples, judged by this window's thresholds. */
  get forecasts(): Forecast[] {
    return forecast(this.samples, this.settings.thresholds);
  }

  get sampleCount(): number {
    return this.samples.length;
  }

  /** Replaces the history (a follower reloading the leader's file, or a fresh monitor). */
  setHistory(samples: readonly Sample[]): void {
    this.samples = samples.slice(-this.historySize);
    this.emit({ type: 'snapshot', snapshot: this.snapshot() });
  }

  addSample(sample: Sample): void {
    const last = this.latest;
    if (last && last.sampledAt === sample.sampledAt) return;
    this.samples.push(sample);
    if (this.samples.length > this.historySize)
      this.samples.splice(0, this.samples.length - this.historySize);
    this.emit({ type: 'sample', sample, health: this.health() });
  }

  /** Re-sends everything (e.g. trust was granted: the dashboard shows its destructive actions). */
  setTrusted(trusted: boolean): void {
    this.trusted = trusted;
    this.emit({ type: 'snapshot', snapshot: this.snapshot() });
  }

  setState(state: MonitorState, following: boolean): void {
    this.state = state;
    this.following = following;
    this.unreachable.observe(state.status);
    this.emit({ type: 'state', state, following });
  }

  /** Tells the dashboard only when the list changed (it is re-read after every sample). */
  setIncidents(incidents: readonly Incident[]): void {
    const prev = this.incidents;
    this.incidents = incidents;
    if (prev.length === incidents.length && prev[prev.length - 1] === incidents[incidents.length - 1]) return;
    this.emit({ type: 'incidents', incidents: incidents.map(incidentView) });
  }

  setAgent(agent: AgentView | undefined): void {
    this.agent = agent;
    this.emit({ type: 'state', state: this.state, following: this.following });
  }

  setSettings(settings: DashboardSettings): void {
    this.settings = settings;
    this.emit({ type: 'settings', settings });
  }

  setLocks(locks: LockView[]): void {
    this.locks = locks;
    this.emit({ type: 'locks', locks });
  }

  setCleanup(report: CleanupReportView): void {
    this.cleanup = report;
    this.emit({ type: 'cleanup', report });
  }

  setOrphans(n: number): void {
    this.orphans = n;
    this.emit({ type: 'predictions', predictions: this.predictions, health: this.health() });
  }

  setRuns(predictions: PredictionView[], runs: RunStats[]): void {
    this.predictions = predictions;
    this.runs = runs;
    this.emit({ type: 'predictions', predictions, health: this.health() });
  }

  health(): HealthTarget[] {
    return healthTargets({
      latest: this.latest,
      orphans: this.orphans,
      unreachableEpisodes: this.unreachable.count(),
      windowMs: this.unreachable.windowMs,
      memoryBudgetBytes: this.settings.memoryBudgetBytes,
      runs: this.runs,
    });
  }

  snapshot(): Snapshot {
    return {
      samples: historyForDashboard(this.samples),
      state: this.state,
      settings: this.settings,
      locks: this.locks,
      cleanup: this.cleanup,
      predictions: this.predictions,
      health: this.health(),
      incidents: this.incidents.map(incidentView),
      trusted: this.trusted,
      following: this.following,
    };
  }
}

/**
 * The history as the dashboard's snapshot carries it: what each sample's charts draw, the rest
 * only where the dashboard shows it. The consumer table and the stats budget show the newest
 * sample, the disk breakdown and unrotated logs the newest disk figure; older samples go without
 * them, which makes the snapshot (built, carried and read at every opening) about 40% smaller.
 */
export function historyForDashboard(samples: readonly Sample[]): Sample[] {
  let disk = samples.length - 1;
  while (disk >= 0 && !samples[disk]!.disk) disk--;
  const last = samples.length - 1;
  return samples.map((s, i) => {
    if (i === last) return s;
    const lean: Sample = { ...s };
    delete lean.consumers;
    delete lean.budget;
    if (i !== disk && s.disk) {
      lean.disk = { ...s.disk };
      delete lean.disk.breakdown;
      delete lean.disk.unrotatedLogs;
    }
    return lean;
  });
}
