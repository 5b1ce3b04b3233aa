import {
  collectDefaultMetrics,
  Counter,
  Gauge,
  Histogram,
  type Registry,
  type RegistryContentType,
} from 'prom-client';
import { INCIDENT_KINDS } from '../incidents/types';

/** prom-client's default metrics that are gauges named like counters (see defineAgentMetrics). */
const MISNAMED_DEFAULT_METRICS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

/** The metric objects AgentMetrics updates; their names, help texts, labels and buckets are in AGENT_METRICS. */
export interface AgentMetricSet {
  reachable: Gauge;
  used: Gauge<'resource'>;
  capacity: Gauge<'resource'>;
  percent: Gauge<'resource'>;
  resourceLevel: Gauge<'resource'>;
  level: Gauge;
  running: Gauge;
  samples: Counter;
  sampleDuration: Histogram;
  sampleSource: Gauge<'via'>;
  lastSample: Gauge;
  orphans: Gauge<'type'>;
  cleanups: Counter<'trigger' | 'outcome'>;
  cleanupRemoved: Counter<'type'>;
  cleanupFailed: Counter;
  cleanupBytes: Counter;
  cleanupDuration: Histogram<'trigger'>;
  lockHeld: Gauge<'lock'>;
  lockStale: Gauge<'lock'>;
  lockAge: Gauge<'lock'>;
  lockTakeovers: Counter<'lock'>;
  lockForced: Counter<'lock'>;
  lockWait: Histogram<'lock' | 'mode'>;
  runsTotal: Counter<'category' | 'outcome'>;
  runDuration: Histogram<'category'>;
  ownerMemory: Gauge<'kind' | 'owner'>;
  ownerCpu: Gauge<'kind' | 'owner'>;
  ownerContainers: Gauge<'kind' | 'owner'>;
  incidents: Counter<'kind'>;
}

type MetricType<M> =
  M extends Histogram<string> ? 'histogram' : M extends Gauge<string> ? 'gauge' : 'counter';
type LabelsOf<M> =
  M extends Gauge<infer L> ? L : M extends Counter<infer L> ? L : M extends Histogram<infer L> ? L : never;

/** One metric's contract: its type, name, help, labels and (histograms) buckets. */
type MetricSpec<M> = {
  type: MetricType<M>;
  name: string;
  help: string;
  labelNames?: readonly LabelsOf<M>[];
} & (M extends Histogram<string> ? { buckets: number[] } : unknown);

const OWNER_LABELS = ['kind', 'owner'] as const;

/**
 * Every metric AgentMetrics updates, in the order of the exposition: the names, help, labels and
 * buckets that make up its contract, kept apart from the code that updates and renders them.
 */
const AGENT_METRICS: { readonly [K in keyof AgentMetricSet]: MetricSpec<AgentMetricSet[K]> } = {
  reachable: {
    type: 'gauge',
    name: 'docker_stability_daemon_reachable',
    help: '1 while the daemon answers, 0 while it is unreachable.',
  },
  used: {
    type: 'gauge',
    name: 'docker_stability_resource_used',
    help: 'Used amount per resource: memory in bytes, cpu in percent of one core, counts in items.',
    labelNames: ['resource'],
  },
  capacity: {
    type: 'gauge',
    name: 'docker_stability_resource_capacity',
    help: 'Capacity per resource, in the units of docker_stability_resource_used.',
    labelNames: ['resource'],
  },
  percent: {
    type: 'gauge',
    name: 'docker_stability_resource_percent',
    help: 'Used / capacity x 100 per resource.',
    labelNames: ['resource'],
  },
  resourceLevel: {
    type: 'gauge',
    name: 'docker_stability_resource_level',
    help: 'Level per resource: 0 SAFE, 1 WARNING, 2 CRITICAL, 3 EMERGENCY.',
    labelNames: ['resource'],
  },
  level: {
    type: 'gauge',
    name: 'docker_stability_level',
    help: 'Overall level (the worst resource): 0 SAFE, 1 WARNING, 2 CRITICAL, 3 EMERGENCY.',
  },
  running: {
    type: 'gauge',
    name: 'docker_stability_containers_running',
    help: 'Containers running at the last sample.',
  },
  samples: {
    type: 'counter',
    name: 'docker_stability_samples_total',
    help: 'Samples seen (taken by this agent or by the sampler it follows).',
  },
  sampleDuration: {
    type: 'histogram',
    name: 'docker_stability_sample_duration_seconds',
    help: 'Wall time of one sample.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  },
  sampleSource: {
    type: 'gauge',
    name: 'docker_stability_sample_containers',
    help: 'Containers of the last sample by how they were read: cgroup (free), api (costs the daemon), failed.',
    labelNames: ['via'],
  },
  lastSample: {
    type: 'gauge',
    name: 'docker_stability_last_sample_timestamp_seconds',
    help: 'When the last sample was taken (Unix time).',
  },
  orphans: {
    type: 'gauge',
    name: 'docker_stability_orphans',
    help: 'Resources a cleanup pass would remove now, by type (from the last orphan scan).',
    labelNames: ['type'],
  },
  cleanups: {
    type: 'counter',
    name: 'docker_stability_cleanups_total',
    help: 'Cleanup passes by trigger (auto, scheduled, resume) and outcome (ok, failed removals, error).',
    labelNames: ['trigger', 'outcome'],
  },
  cleanupRemoved: {
    type: 'counter',
    name: 'docker_stability_cleanup_removed_total',
    help: 'Resources removed by cleanup passes, by type.',
    labelNames: ['type'],
  },
  cleanupFailed: {
    type: 'counter',
    name: 'docker_stability_cleanup_failed_total',
    help: 'Removals that failed in cleanup passes.',
  },
  cleanupBytes: {
    type: 'counter',
    name: 'docker_stability_cleanup_reclaimed_bytes_total',
    help: 'Bytes reclaimed by cleanup passes (where the size is known).',
  },
  cleanupDuration: {
    type: 'histogram',
    name: 'docker_stability_cleanup_duration_seconds',
    help: 'Duration of cleanup passes.',
    labelNames: ['trigger'],
    buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
  },
  lockHeld: {
    type: 'gauge',
    name: 'docker_stability_lock_held',
    help: '1 while the environment lock is held (stale or not).',
    labelNames: ['lock'],
  },
  lockStale: {
    type: 'gauge',
    name: 'docker_stability_lock_stale',
    help: '1 while the lock is held by a holder that stopped or died.',
    labelNames: ['lock'],
  },
  lockAge: {
    type: 'gauge',
    name: 'docker_stability_lock_held_seconds',
    help: 'How long the current holder has held the lock.',
    labelNames: ['lock'],
  },
  lockTakeovers: {
    type: 'counter',
    name: 'docker_stability_lock_takeovers_total',
    help: 'Takeovers of stale locks, each counted once when the agent first sees it on the holder.',
    labelNames: ['lock'],
  },
  lockForced: {
    type: 'counter',
    name: 'docker_stability_lock_forced_releases_total',
    help: 'Forced releases, each counted once when the agent first sees its record.',
    labelNames: ['lock'],
  },
  lockWait: {
    type: 'histogram',
    name: 'docker_stability_lock_wait_seconds',
    help: 'How long each acquisition of an environment lock waited, by mode (from the lock folder).',
    labelNames: ['lock', 'mode'],
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300],
  },
  runsTotal: {
    type: 'counter',
    name: 'docker_stability_runs_total',
    help: 'Recorded test runs by category and outcome (success: exit code 0).',
    labelNames: ['category', 'outcome'],
  },
  runDuration: {
    type: 'histogram',
    name: 'docker_stability_run_duration_seconds',
    help: 'Duration of recorded test runs by category.',
    labelNames: ['category'],
    buckets: [5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600],
  },
  ownerMemory: {
    type: 'gauge',
    name: 'docker_stability_owner_memory_bytes',
    help: 'Working-set memory of running containers by owner (kind: run, compose, testcontainers, other).',
    labelNames: OWNER_LABELS,
  },
  ownerCpu: {
    type: 'gauge',
    name: 'docker_stability_owner_cpu_percent',
    help: 'CPU of running containers by owner, in percent of one core.',
    labelNames: OWNER_LABELS,
  },
  ownerContainers: {
    type: 'gauge',
    name: 'docker_stability_owner_containers_running',
    help: 'Running containers by owner.',
    labelNames: OWNER_LABELS,
  },
  incidents: {
    type: 'counter',
    name: 'docker_stability_incidents_total',
    help: 'Incidents detected by kind: oom, restart-loop, unhealthy, daemon-unreachable, daemon-recovered.',
    labelNames: ['kind'],
  },
};

/** Any entry of AGENT_METRICS, as create() reads it. */
interface AnyMetricSpec {
  type: 'gauge' | 'counter' | 'histogram';
  name: string;
  help: string;
  labelNames?: readonly string[];
  buckets?: number[];
}

function create(
  spec: AnyMetricSpec,
  registers: Registry<RegistryContentType>[],
): Gauge | Counter | Histogram {
  const config = { name: spec.name, help: spec.help, labelNames: spec.labelNames ?? [], registers };
  if (spec.type === 'histogram') return new Histogram({ ...config, buckets: spec.buckets });
  return spec.type === 'gauge' ? new Gauge(config) : new Counter(config);
}

/**
 * Registers every metric of the agent on `registry`: the info and start-time gauges, set here
 * once, then AGENT_METRICS, which AgentMetrics sets as things happen.
 */
export function defineAgentMetrics(
  registry: Registry<RegistryContentType>,
  version: string,
  processMetrics: boolean,
): AgentMetricSet {
  const r = [registry];
  const info = new Gauge({
    name: 'docker_stability_agent_info',
    help: 'The agent and its version (always 1).',
    labelNames: ['version'],
    registers: r,
  });
  info.set({ version: version }, 1);
  new Gauge({
    name: 'docker_stability_agent_start_time_seconds',
    help: 'When the agent started (Unix time).',
    registers: r,
  }).set(Date.now() / 1000);
  const made: Record<string, Gauge | Counter | Histogram> = {};
  for (const [key, spec] of Object.entries(AGENT_METRICS)) made[key] = create(spec, r);
  // Each entry was made from its spec, whose type the table's type ties to AgentMetricSet's.
  const m = made as unknown as AgentMetricSet;
  for (const kind of INCIDENT_KINDS) m.incidents.inc({ kind }, 0);
  if (processMetrics) {
    // The event loop delay histogram samples every 10 ms by default, which alone costs the
    // agent about 0.7% of a core (measured: bench/agent); 100 ms costs under 0.1%.
    collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 100 });
    // prom-client names these three gauges *_total, which `promtool check metrics` rejects
    // (a _total suffix promises a counter); the handle counts are in nodejs_active_* by type anyway.
    for (const n of MISNAMED_DEFAULT_METRICS) registry.removeSingleMetric(n);
  }
  return m;
}
