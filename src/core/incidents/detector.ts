import type { DockerEvent } from '../docker/client';
import { ownerOf } from '../monitor/owners';
import type { MonitorState, Sample } from '../monitor/types';
import type { Incident, IncidentContainer } from './types';

export interface DetectorOptions {
  endpoint: string;
  /** A container restarting this many times within `restartLoopWindowMs` is a restart loop. */
  restartLoopCount?: number;
  restartLoopWindowMs?: number;
  /**
   * Whether a container's main process was OOM-killed (`State.OOMKilled`): asked only for a
   * `die` with exit code 137 that no `oom` event explained, so it costs a call only then.
   */
  inspectOomKilled?: (id: string) => Promise<boolean | undefined>;
  now?: () => number;
}

/** A container's healthcheck as inspect gives it (nanoseconds; 0 or absent means Docker's default). */
export interface HealthcheckTiming {
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  Retries?: number;
}

/**
 * How long a healthcheck may stay `starting` before the container counts as never becoming
 * healthy: its start period plus retries x interval (when a failing probe would have turned it
 * unhealthy), plus one interval and one timeout of slack for the probe in flight. Docker's
 * defaults: interval 30 s, timeout 30 s, retries 3, start period 0.
 */
export function healthDeadlineMs(h: HealthcheckTiming | undefined): number {
  const ms = (ns: number | undefined, def: number): number => (ns && ns > 0 ? ns / 1e6 : def);
  const interval = ms(h?.Interval, 30_000);
  const retries = h?.Retries && h.Retries > 0 ? h.Retries : 3;
  return ms(h?.StartPeriod, 0) + (retries + 1) * interval + ms(h?.Timeout, 30_000);
}

export const DEFAULT_RESTART_LOOP = { count: 3, windowMs: 5 * 60_000 };
/** An `oom` event and the `die` it causes (or several `oom`s of one squeeze) are one incident. */
const OOM_MERGE_MS = 10_000;

/**
 * Turns the daemon's container events (the ones the inventory follows anyway) and the monitor's
 * connection states into incidents. The daemon emits `oom` when a cgroup hits its limit (also
 * when only a process inside is killed and `State.OOMKilled` stays false) and `die` with exit
 * code 137 and OOMKilled when the main process was killed; a restart loop shows as repeated
 * `die`/`start` pairs; health as `health_status: unhealthy` events.
 */
export class IncidentDetector {
  private readonly endpoint: string;
  private readonly loopCount: number;
  private readonly loopWindowMs: number;
  private readonly inspectOomKilled: DetectorOptions['inspectOomKilled'];
  private readonly now: () => number;
  private readonly lastOom = new Map<string, number>();
  private readonly lastDie = new Map<string, number>();
  private readonly restarts = new Map<string, number[]>();
  private readonly loopReportedAt = new Map<string, number>();
  private readonly unhealthy = new Set<string>();
  /** Containers whose healthcheck is still `starting`, with when that becomes too long. */
  private readonly starting = new Map<
    string,
    { deadline: number; boundMs: number; container: IncidentContainer; startedAt: number }
  >();
  private daemonStartedAt: number | undefined;
  private lastSample: Sample | undefined;
  private wasUp = false;
  private downSince: number | undefined;

  constructor(opts: DetectorOptions) {
    this.endpoint = opts.endpoint;
    this.loopCount = opts.restartLoopCount ?? DEFAULT_RESTART_LOOP.count;
    this.loopWindowMs = opts.restartLoopWindowMs ?? DEFAULT_RESTART_LOOP.windowMs;
    this.inspectOomKilled = opts.inspectOomKilled;
    this.now = opts.now ?? Date.now;
  }

  /** The figures the next incidents carry. */
  observeSample(s: Sample): void {
    this.lastSample = s;
  }

  /** Incidents one container event makes (none for most). */
  async onEvent(e: DockerEvent): Promise<Incident[]> {
    if (e.Type !== 'container' || !e.Actor?.ID) return [];
    const id = e.Actor.ID;
    const action = e.Action ?? '';
    const at = eventTime(e) ?? this.now();
    switch (action) {
      case 'oom': {
        const prev = this.lastOom.get(id);
        this.lastOom.set(id, at);
        if (prev !== undefined && at - prev < OOM_MERGE_MS) return [];
        return [this.incident('oom', at, e, { mainProcessKilled: false })];
      }
      case 'die': {
        this.lastDie.set(id, at);
        this.starting.delete(id);
        if (e.Actor.Attributes?.exitCode !== '137') return [];
        const oom = this.lastOom.get(id);
        if (oom !== undefined && at - oom < OOM_MERGE_MS) return []; // the oom event already told it
        if (!(await this.inspectOomKilled?.(id).catch(() => undefined))) return []; // a plain SIGKILL
        this.lastOom.set(id, at);
        return [this.incident('oom', at, e, { mainProcessKilled: true })];
      }
      case 'start': {
        const died = this.lastDie.get(id);
        if (died === undefined || at - died > this.loopWindowMs) return [];
        const recent = (this.restarts.get(id) ?? []).filter((t) => at - t <= this.loopWindowMs);
        recent.push(at);
        this.restarts.set(id, recent);
        const reported = this.loopReportedAt.get(id);
        if (recent.length < this.loopCount || (reported !== undefined && at - reported <= this.loopWindowMs))
          return [];
        this.loopReportedAt.set(id, at);
        return [
          this.incident('restart-loop', at, e, { restarts: recent.length, windowMs: this.loopWindowMs }),
        ];
      }
      case 'health_status: unhealthy':
        this.starting.delete(id); // it did decide: unhealthy says the rest
        if (this.unhealthy.has(id)) return [];
        this.unhealthy.add(id);
        return [this.incident('unhealthy', at, e, {})];
      case 'health_status: healthy':
        this.unhealthy.delete(id);
        this.starting.delete(id);
        return [];
      case 'destroy':
        for (const m of [this.lastOom, this.lastDie, this.restarts, this.loopReportedAt, this.starting])
          m.delete(id);
        this.unhealthy.delete(id);
        return [];
      default:
        return [];
    }
  }

  /** Whether a `starting` container is already being timed or was reported (so it is inspected only once). */
  isTimingHealth(id: string): boolean {
    return this.starting.has(id);
  }

  /**
   * Times a container whose healthcheck is `starting`: started at `startedAtMs`, it must turn
   * healthy (or unhealthy) within `boundMs`, else `checkHealthDeadlines` reports it once.
   */
  timeHealth(id: string, c: IncidentContainer, startedAtMs: number, boundMs: number): void {
    this.starting.set(id, { deadline: startedAtMs + boundMs, boundMs, container: c, startedAt: startedAtMs });
  }

  /** Containers still `starting` past their bound: one never-healthy incident each. */
  checkHealthDeadlines(): Incident[] {
    const now = this.now();
    const out: Incident[] = [];
    for (const s of this.starting.values()) {
      if (now < s.deadline) continue;
      // kept, never due again: the list still says `starting` until an event says otherwise
      s.deadline = Number.POSITIVE_INFINITY;
      out.push({
        ...this.base('never-healthy', now),
        container: s.container,
        startingMs: now - s.startedAt,
        boundMs: s.boundMs,
      });
    }
    return out;
  }

  /**
   * The daemon's start time where it is known (the local dockerd's, from /proc): a change is a
   * restart, whether or not a sample saw the daemon unreachable in between.
   */
  observeDaemonStart(startedAtMs: number): Incident[] {
    const prev = this.daemonStartedAt;
    this.daemonStartedAt = startedAtMs;
    // a second of tolerance: clock-tick rounding, not a restart
    if (prev === undefined || Math.abs(startedAtMs - prev) < 1000) return [];
    return [
      {
        ...this.base('daemon-restarted', this.now()),
        previousStartedAt: new Date(prev).toISOString(),
        startedAt: new Date(startedAtMs).toISOString(),
      },
    ];
  }

  /** A daemon that was up and became unreachable, or came back. */
  onState(s: MonitorState): Incident[] {
    const at = this.now();
    if (s.status === 'down' && this.wasUp && this.downSince === undefined) {
      this.downSince = at;
      return [{ ...this.base('daemon-unreachable', at), reason: s.reason }];
    }
    if (s.status === 'up') {
      this.wasUp = true;
      const since = this.downSince;
      this.downSince = undefined;
      if (since !== undefined) return [{ ...this.base('daemon-recovered', at), downMs: at - since }];
    }
    return [];
  }

  private base(kind: Incident['kind'], at: number): Incident {
    const s = this.lastSample;
    return {
      at: new Date(at).toISOString(),
      kind,
      endpoint: this.endpoint,
      ...(s
        ? {
            figures: {
              sampledAt: s.sampledAt,
              level: s.level,
              memoryPercent: s.resources.memory.percent,
              cpuPercent: s.resources.cpu.percent,
            },
          }
        : {}),
    };
  }

  private incident(kind: Incident['kind'], at: number, e: DockerEvent, extra: Partial<Incident>): Incident {
    return { ...this.base(kind, at), container: containerOf(e), ...extra };
  }
}

/** The container an event is about: its attributes carry the name and every label. */
function containerOf(e: DockerEvent): IncidentContainer {
  const attrs = e.Actor?.Attributes ?? {};
  const id = (e.Actor?.ID ?? '').slice(0, 12);
  return { id, name: attrs.name || id, owner: ownerOf(attrs) };
}

function eventTime(e: DockerEvent): number | undefined {
  if (typeof e.timeNano === 'number' && e.timeNano > 0) return Math.floor(e.timeNano / 1e6);
  if (typeof e.time === 'number' && e.time > 0) return e.time * 1000;
  return undefined;
}
