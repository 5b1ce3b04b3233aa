import { summarize, type CleanupOptions, type CleanupReport } from '../cleanup';
import { DockerClient } from '../docker/client';
import { resolveEndpoint } from '../docker/endpoint';
import type { OwnershipProxy } from '../docker/ownershipProxy';
import { Labels } from '../labels';
import type { Level } from '../levels';
import { DEFAULT_LOCK_NAME, LockManager, type LockHandle, type LockMode } from '../lock';
import { hostId } from '../lock/process';
import { silentLogger, type Logger } from '../log';
import { readCpuSeed, takeProcessCpuSeed } from '../monitor/cpuSeed';
import { ResourceMonitor } from '../monitor/monitor';
import type { MonitorSettings } from '../monitor/settings';
import { traceMark } from '../util/trace';
import { newRunId, recordedCommand, runEnvironment } from './environment';
import { mayHaveLeft, nowNanos } from './leftovers';
import { decideRunMode, type RunModeDecision } from './modeDecision';
import type { PredictedLevel, Prediction, PredictionOptions } from './predict';
import { RunStore, type RunRecord } from './records';
import { admitAndLock, cleanUpAfter, predictRun, RunMeasure, startProxy, type RunSetup } from './phases';

export { explainPrediction, RunRefusedError } from './phases';

export interface TestEnvironmentOptions {
  /** What kind of run this is (e.g. `integration`, `e2e`): the unit of prediction. */
  category: string;
  /** The environment lock to hold (default `test`). */
  env?: string;
  /**
   * `exclusive` (default): the run has the environment to itself. `shared`: it runs beside other
   * shared runs of the environment, admitted while the daemon as it is, plus what those runs are
   * still predicted to add, plus this run's prediction stays below `refuseAt`; never beside an
   * exclusive run. Shared is asked, not granted: a fixed container name or host port in the
   * compose files of `composeDir` makes the run exclusive (the report's `mode` says why), unless
   * `forceShared`. A decision already made by `decideRunMode` is taken as it is.
   */
  mode?: LockMode | RunModeDecision;
  /** Modes per category from a configuration, used when `mode` is not given (see `validateRunModes`). */
  modes?: Readonly<Record<string, LockMode>>;
  /** With `mode: 'shared'`: shared even where the compose files have fixed names or ports (with a warning). */
  forceShared?: boolean;
  /** The folder whose compose files decide whether the run may be shared (default: the working folder). */
  composeDir?: string;
  why?: string;
  /** The daemon to watch and clean (default: the endpoint resolved as the docker CLI would). */
  client?: DockerClient;
  lock?: LockManager;
  store?: RunStore;
  monitor?: Partial<MonitorSettings>;
  prediction?: PredictionOptions;
  /** Refuse (after an orphan cleanup and waiting) when the predicted level reaches this. Default EMERGENCY. */
  refuseAt?: Level;
  /** Run even when the prediction says no. */
  force?: boolean;
  /**
   * How long to wait for room on the daemon, then for the lock, then (when the daemon filled up
   * during the lock wait) for room again. Default 5 minutes each.
   */
  timeoutMs?: number;
  /** How often to re-check the prediction while waiting for room. Default 5 s. */
  recheckMs?: number;
  /** Cleanup settings (test project patterns, protect label) for the orphan pass before a run. */
  cleanup?: Pick<CleanupOptions, 'testProjectPatterns' | 'protectLabel' | 'olderThanMs'>;
  /** Remove what the run left behind (default true). */
  cleanupAfter?: boolean;
  /** The command the run executes, for its records (its name only, unless `recordArgv`). */
  command?: string[];
  /**
   * Keep the command's whole argv in the run records. Default false: only the command's name,
   * since arguments can carry secrets and the records outlive the run.
   */
  recordArgv?: boolean;
  /** Sample interval while the run is going (default 1 s). */
  sampleIntervalMs?: number;
  signal?: AbortSignal;
  logger?: Logger;
  /** Progress messages for a human (the CLI prints them to stderr). */
  onProgress?: (message: string) => void;
}

/** What the code under test receives: the run id and the environment to pass on. */
export interface TestEnvironment {
  runId: string;
  /**
   * Variables to export to test processes: DOCKER_HOST (the run's own endpoint, which labels
   * everything created through it as the run's), DOCKER_STABILITY_RUN_ID, COMPOSE_PROJECT_NAME...
   */
  env: Record<string, string>;
  /** The labels the run's own DOCKER_HOST stamps; a client that bypasses it can set them itself. */
  labels: Record<string, string>;
  lock: LockHandle;
}

export interface RunReport {
  runId: string;
  category: string;
  env: string;
  /** The mode the run had, and why when shared was asked. */
  mode: RunModeDecision;
  prediction: Prediction;
  predicted: PredictedLevel;
  /** Orphan cleanup run before starting because the prediction was too high. */
  preCleanup?: CleanupReport;
  record: RunRecord;
  cleanup?: CleanupReport;
  forced: boolean;
}

/** Through cgroup files, the window of a run's first CPU reading (see MonitorOptions.cpuPrimeMs). */
const RUN_CPU_PRIME_MS = 100;
/** An earlier seed of this process (the CLI takes one as it starts) older than this is not used. */
const RUN_CPU_SEED_MAX_AGE_MS = 2000;

/** How a run ended, as far as the caller knows. A framework teardown may not know: exitCode null, no signal. */
export interface RunOutcome {
  command?: string[];
  exitCode: number | null;
  signal?: NodeJS.Signals | string | null;
}

/**
 * A run between its start and its end: holds the environment lock and samples the daemon.
 * `end()` must be called exactly once (later calls return the same report).
 */
export interface ActiveTestRun extends TestEnvironment {
  readonly category: string;
  readonly envName: string;
  readonly startedAt: Date;
  /** Stops sampling, records the run, removes what it left behind, releases the lock. */
  end(outcome?: RunOutcome): Promise<RunReport>;
}

/**
 * The first half of a controlled run, one function per phase: predict what the category needs;
 * admit and lock (refusing, after an orphan cleanup and a wait, when it would push the daemon to
 * `refuseAt`); take the baseline; start the run (its own DOCKER_HOST, its start record,
 * sampling). The returned run holds the lock until its `end()`, which measures, cleans up and
 * releases.
 */
export async function beginTestRun(opts: TestEnvironmentOptions): Promise<ActiveTestRun> {
  const logger = opts.logger ?? silentLogger;
  const progress = opts.onProgress ?? ((m: string) => logger.info(m));
  const decided = typeof opts.mode === 'object';
  const mode =
    typeof opts.mode === 'object'
      ? opts.mode
      : await decideRunMode({
          category: opts.category,
          mode: opts.mode,
          modes: opts.modes,
          forceShared: opts.forceShared,
          dir: opts.composeDir,
        });
  if (!decided && mode.note !== undefined) progress(mode.note);
  const client = opts.client ?? new DockerClient(resolveEndpoint());
  const s: RunSetup = {
    opts,
    mode,
    runId: newRunId(),
    envName: opts.env ?? DEFAULT_LOCK_NAME,
    refuseAt: opts.refuseAt ?? 'EMERGENCY',
    timeoutMs: opts.timeoutMs ?? 300_000,
    client,
    store: opts.store ?? new RunStore(undefined, { logger }),
    lock: opts.lock ?? new LockManager({ logger }),
    monitor: new ResourceMonitor(
      client,
      { ...opts.monitor, intervalMs: opts.sampleIntervalMs ?? 1000 },
      // No decision of a run rests on the disk figure. The first sample is on the way to the
      // command's start: its CPU rate is read over at least 100 ms (cgroup counters are exact
      // to a scheduler tick, a few ms), not the monitor's default 250, measured from the CPU
      // counters this process read as it started (the CLI) or as the run began, so that the
      // window overlaps start-up and the lock rather than being waited for after them.
      {
        logger,
        disk: false,
        cpuPrimeMs: RUN_CPU_PRIME_MS,
        cpuSeed: takeProcessCpuSeed(RUN_CPU_SEED_MAX_AGE_MS) ?? readCpuSeed(),
      },
    ),
    logger,
    progress,
  };
  // The run's own DOCKER_HOST needs neither the lock nor a sample: it starts beside them.
  const proxying = startProxy(s);
  traceMark('run-begin', { run: s.runId });
  let handle: LockHandle | undefined;
  try {
    // Reading the records goes with asking for the lock and the first sample (see admitAndLock).
    const admitted = await admitAndLock(s, predictRun(s));
    const { prediction } = admitted;
    traceMark('admitted', { run: s.runId });
    handle = admitted.handle;
    const measure = new RunMeasure(admitted.baselineSample, s.runId);
    s.monitor.onSample(measure.track);
    const proxy = await proxying;
    const started = await startRun(s, proxy);
    const lockHandle = handle;
    let ending: Promise<RunReport> | undefined;
    return {
      runId: s.runId,
      env: started.environment,
      labels: { [Labels.runId]: s.runId },
      lock: lockHandle,
      category: opts.category,
      envName: s.envName,
      startedAt: started.at,
      end(outcome: RunOutcome = { exitCode: null }): Promise<RunReport> {
        ending ??= endRun(s, { ...admitted, prediction, measure, proxy, started }, outcome);
        return ending;
      },
    };
  } catch (err) {
    try {
      await (await proxying)?.close();
      await handle?.release();
    } finally {
      await s.monitor.dispose();
    }
    throw err;
  }
}

/** Starts the run: its environment, its start record, sampling. */
async function startRun(
  s: RunSetup,
  proxy: OwnershipProxy | undefined,
): Promise<{ at: Date; nanos: bigint; environment: Record<string, string> }> {
  const at = new Date();
  const nanos = nowNanos();
  const environment = runEnvironment(s.runId, s.opts.category, s.envName, process.env, proxy?.dockerHost);
  await s.store
    .appendStart({
      kind: 'start',
      id: s.runId,
      category: s.opts.category,
      env: s.envName,
      command: recordedCommand(s.opts.command ?? [], s.opts.recordArgv),
      startedAt: at.toISOString(),
      pid: process.pid,
      hostId: hostId(),
    })
    .catch((err: Error) => s.logger.warn(`run start not recorded: ${err.message}`));
  s.progress(`run ${s.runId} (${s.opts.category}) started with the "${s.envName}" lock`);
  traceMark('command-start', { run: s.runId });
  s.monitor.start();
  return { at, nanos, environment };
}

/** Measures, records, cleans up (only when something may have been left), releases. */
async function endRun(
  s: RunSetup,
  run: {
    handle: LockHandle;
    prediction: Prediction;
    predicted: PredictedLevel;
    preCleanup?: CleanupReport;
    measure: RunMeasure;
    proxy: OwnershipProxy | undefined;
    started: { at: Date; nanos: bigint };
  },
  outcome: RunOutcome,
): Promise<RunReport> {
  const { opts, runId, envName } = s;
  const { measure, started } = run;
  try {
    const endedAt = new Date();
    traceMark('command-end', { run: runId });
    const endedNanos = nowNanos();
    // Nothing more is created as the run's once it has ended.
    await run.proxy?.close();
    s.monitor.pause();
    // A shared run has nothing more to add: what its containers still use is in the daemon's
    // figures, so the next shared run can be admitted while this one measures and cleans up.
    const done =
      s.mode.mode === 'shared'
        ? run.handle
            .setNeeds({})
            .catch((err: Error) => s.logger.warn(`run ${runId}: its needs were not updated: ${err.message}`))
        : Promise.resolve();
    const [last, leftSome] = await Promise.all([
      s.monitor.sampleNow().catch(() => measure.baselineSample),
      opts.cleanupAfter === false
        ? Promise.resolve(false)
        : mayHaveLeft(s.client, runId, started.nanos, endedNanos),
    ]);
    measure.track(last);
    await done;

    // The run's own containers, as measured: what it added at its peak over its baseline.
    const added = measure.added();
    const record: RunRecord = {
      id: runId,
      category: opts.category,
      env: envName,
      command: recordedCommand(outcome.command ?? opts.command ?? [], opts.recordArgv),
      startedAt: started.at.toISOString(),
      endedAt: endedAt.toISOString(),
      durationMs: endedAt.getTime() - started.at.getTime(),
      exitCode: outcome.exitCode,
      signal: outcome.signal ?? undefined,
      baseline: measure.baseline,
      peak: measure.peak,
      added,
      samples: measure.samples,
      ...measure.cost.record(),
      ...(measure.baselineSample.daemonId
        ? { daemon: { id: measure.baselineSample.daemonId, endpoint: s.client.endpoint.host } }
        : {}),
      pid: process.pid,
      hostId: hostId(),
    };
    let cleanup: CleanupReport | undefined;
    // The daemon's events say whether the run may have left anything: when everything of its
    // own that it created is gone again (and no network or volume stayed), the pass is skipped.
    if (leftSome) {
      traceMark('cleanup-start', { run: runId });
      cleanup = await cleanUpAfter(s, { endedAt, addedVolumes: added.volumes > 0 });
      traceMark('cleanup-end', { run: runId });
      if (cleanup) {
        record.cleanup = {
          removed: cleanup.removed.length,
          failed: cleanup.failed.length,
          kept: cleanup.kept.length,
        };
        s.progress(`cleanup after run ${runId}: ${summarize(cleanup)}`);
      }
    }
    await s.store.append(record).catch((err: Error) => s.logger.warn(`run record not saved: ${err.message}`));
    return {
      runId,
      category: opts.category,
      env: envName,
      mode: s.mode,
      prediction: run.prediction,
      predicted: run.predicted,
      preCleanup: run.preCleanup,
      record,
      cleanup,
      forced: !!opts.force,
    };
  } finally {
    try {
      traceMark('release-start', { run: runId });
      await run.handle.release();
      traceMark('released', { run: runId });
    } finally {
      await s.monitor.dispose();
    }
  }
}

/**
 * Runs `fn` as one controlled test run (see `beginTestRun`): `fn` receives the run id and the
 * environment to pass on; afterwards the run is recorded, what it left behind is removed and
 * the lock released. `fn`'s result or error passes through; an error carries the `report`.
 */
export async function withTestEnvironment<T>(
  opts: TestEnvironmentOptions,
  fn: (env: TestEnvironment) => Promise<T>,
): Promise<{ result: T; report: RunReport }> {
  const run = await beginTestRun(opts);
  let result: T;
  try {
    result = await fn({ runId: run.runId, env: run.env, labels: run.labels, lock: run.lock });
  } catch (err) {
    const report = await run.end({ exitCode: 1 });
    if (typeof err === 'object' && err !== null) Object.assign(err, { report });
    throw err;
  }
  return { result, report: await run.end(outcomeOf(result)) };
}

/** A command's outcome as `fn` may return it; other results count as success. */
export interface CommandOutcome {
  command: string[];
  exitCode: number | null;
  signal?: NodeJS.Signals | null;
}

/** A CommandOutcome returned by `fn` is the run's outcome; any other result counts as success. */
function outcomeOf(value: unknown): RunOutcome {
  const v = value as Partial<CommandOutcome> | undefined;
  if (v && Array.isArray(v.command) && 'exitCode' in v)
    return { command: v.command, exitCode: v.exitCode ?? null, signal: v.signal };
  return { exitCode: 0 };
}
