import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { basename } from 'node:path';
import { runCleanup, summarize, type CleanupOptions, type CleanupReport } from '../cleanup';
import { DockerClient } from '../docker/client';
import { resolveEndpoint } from '../docker/endpoint';
import { startOwnershipProxy, type OwnershipProxy } from '../docker/ownershipProxy';
import { Labels } from '../labels';
import type { Level } from '../levels';
import { DEFAULT_LOCK_NAME, LockManager, type LockHandle, type LockHolder, type LockMode } from '../lock';
import { hostId } from '../lock/process';
import { silentLogger, type Logger } from '../log';
import { ContainerStatsReader } from '../monitor/containerStats';
import { ResourceMonitor } from '../monitor/monitor';
import type { MonitorSettings } from '../monitor/settings';
import type { Sample } from '../monitor/types';
import { RunCostTracker } from './cost';
import { formatBytes, formatDuration } from '../util/duration';
import {
  exceeds,
  predict,
  predictLevel,
  type PredictedLevel,
  type Prediction,
  type PredictionOptions,
} from './predict';
import { admissionPrediction, usageByRun } from './admission';
import { AMOUNT_KEYS, emptyAmounts, RunStore, type ResourceAmounts, type RunRecord } from './records';

export interface TestEnvironmentOptions {
  /** What kind of run this is (e.g. `integration`, `e2e`): the unit of prediction. */
  category: string;
  /** The environment lock to hold (default `test`). */
  env?: string;
  /**
   * `exclusive` (default): the run has the environment to itself. `shared`: it runs beside other
   * shared runs of the environment, admitted while the daemon as it is, plus what those runs are
   * still predicted to add, plus this run's prediction stays below `refuseAt`; never beside an
   * exclusive run.
   */
  mode?: LockMode;
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
  prediction: Prediction;
  predicted: PredictedLevel;
  /** Orphan cleanup run before starting because the prediction was too high. */
  preCleanup?: CleanupReport;
  record: RunRecord;
  cleanup?: CleanupReport;
  forced: boolean;
}

export class RunRefusedError extends Error {
  constructor(
    message: string,
    readonly prediction: Prediction,
    readonly predicted: PredictedLevel,
  ) {
    super(message);
    this.name = 'RunRefusedError';
  }
}

export function newRunId(): string {
  return `${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
}

/**
 * The variables a run exports. A COMPOSE_PROJECT_NAME the caller set is kept. With the run's own
 * endpoint (`dockerHost`), DOCKER_HOST points at it, and a docker context or TLS settings that
 * would make clients look elsewhere are cleared (empty means unset to the docker CLI, compose
 * and docker-modem).
 */
export function runEnvironment(
  runId: string,
  category: string,
  envName: string,
  base: NodeJS.ProcessEnv = process.env,
  dockerHost?: string,
): Record<string, string> {
  return {
    ...(dockerHost
      ? { DOCKER_HOST: dockerHost, DOCKER_CONTEXT: '', DOCKER_TLS_VERIFY: '', DOCKER_CERT_PATH: '' }
      : {}),
    DOCKER_STABILITY_RUN_ID: runId,
    DOCKER_STABILITY_CATEGORY: category,
    DOCKER_STABILITY_ENV: envName,
    DOCKER_STABILITY_RUN_LABEL: `${Labels.runId}=${runId}`,
    // Unique per run (category plus run id), so two shared runs of one compose file do not collide.
    COMPOSE_PROJECT_NAME: base.COMPOSE_PROJECT_NAME || `dstab-${composeSlug(category)}-${runId}`,
  };
}

/** A category as compose accepts it in a project name: lowercase letters, digits, `-` and `_`. */
function composeSlug(category: string): string {
  return (
    category
      .toLowerCase()
      .replace(/[^a-z0-9_-]+/g, '-')
      .replace(/^[-_]+|[-_]+$/g, '')
      .slice(0, 40) || 'run'
  );
}

function amountsOf(s: Sample): ResourceAmounts {
  return {
    memoryBytes: s.resources.memory.used,
    cpuPercent: s.resources.cpu.used,
    containers: s.resources.containers.used,
    networks: s.resources.networks.used,
    volumes: s.resources.volumes.used,
  };
}

/** Explains a prediction in one paragraph: what is predicted, against what, and why. */
export function explainPrediction(p: Prediction, pl: PredictedLevel, limit: Level): string {
  const r = pl.resources;
  const parts = (Object.keys(r) as Array<keyof typeof r>)
    .filter((k) => r[k].level === pl.level)
    .map((k) => {
      const f = r[k];
      const show = (n: number): string =>
        k === 'memory' ? formatBytes(n) : k === 'cpu' ? `${Math.round(n)}%` : String(n);
      return `${k} ${show(f.now)} now + ${show(f.added)} predicted = ${show(f.predicted)} of ${show(f.capacity)} (${f.percent}%)`;
    });
  return `predicted level ${pl.level} (limit ${limit}): ${parts.join('; ')}. Basis: ${p.explanation}.`;
}

/** Sleeps, or rejects with the signal's reason when it is (or gets) aborted. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new Error('aborted'));
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal?.reason ?? new Error('aborted'));
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * A sample for a decision (prediction, baseline). A busy daemon occasionally lets one stats call
 * time out, which fails the whole sample; one such miss must not fail the run, so it is retried
 * twice (after 1 s, then 2 s) before the error stands.
 */
async function sampleForDecision(monitor: ResourceMonitor, signal?: AbortSignal): Promise<Sample> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await monitor.sampleNow();
    } catch (err) {
      if (attempt >= 3) throw err;
      await sleep(1000 * attempt, signal);
    }
  }
}

/** The name a run record keeps of a command unless the whole argv was asked for. */
export function recordedCommand(command: string[], recordArgv = false): string[] {
  if (recordArgv) return [...command];
  return command.length ? [basename(command[0] as string)] : [];
}

/** The next whole second at or after `ms`. */
function nextSecond(ms: number): number {
  return Math.ceil(ms / 1000) * 1000;
}

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
 * The first half of a controlled run: predict what the category needs and refuse (after an
 * orphan cleanup and a wait) when it would push the daemon to `refuseAt`; take the environment
 * lock and check the prediction again (the previous holder may have filled the daemon); start
 * sampling. The returned run holds the lock until its `end()`.
 */
export async function beginTestRun(opts: TestEnvironmentOptions): Promise<ActiveTestRun> {
  const logger = opts.logger ?? silentLogger;
  const progress = opts.onProgress ?? ((m: string) => logger.info(m));
  const envName = opts.env ?? DEFAULT_LOCK_NAME;
  const refuseAt = opts.refuseAt ?? 'EMERGENCY';
  const timeoutMs = opts.timeoutMs ?? 300_000;
  const client = opts.client ?? new DockerClient(resolveEndpoint());
  const store = opts.store ?? new RunStore(undefined, { logger });
  const lock = opts.lock ?? new LockManager({ logger });
  const monitor = new ResourceMonitor(
    client,
    { ...opts.monitor, intervalMs: opts.sampleIntervalMs ?? 1000 },
    { logger },
  );
  const thresholds = monitor.currentSettings.thresholds;
  const runId = newRunId();
  let handle: LockHandle | undefined;
  let proxy: OwnershipProxy | undefined;

  try {
    // 1. Predict, and make room or refuse.
    const history = await store.list({ category: opts.category });
    const prediction = predict(opts.category, history, opts.prediction);
    const rate = async (): Promise<PredictedLevel> =>
      predictLevel(await sampleForDecision(monitor, opts.signal), prediction, thresholds);
    let preCleanup: CleanupReport | undefined;
    /** Over the limit: forced runs go on; others clean up orphans, wait for room, or refuse. */
    const makeRoom = async (first: PredictedLevel): Promise<PredictedLevel> => {
      if (!exceeds(first, refuseAt)) return first;
      if (opts.force) {
        progress(`${explainPrediction(prediction, first, refuseAt)} Running anyway (forced).`);
        return first;
      }
      progress(`${explainPrediction(prediction, first, refuseAt)} Cleaning up orphans first.`);
      preCleanup = await runCleanup(client, {
        ...opts.cleanup,
        runsFile: store.file,
        logger,
        lock: { manager: lock },
      });
      progress(`orphan cleanup: ${summarize(preCleanup)}`);
      const waitUntil = Date.now() + timeoutMs;
      let predicted = await rate();
      while (exceeds(predicted, refuseAt) && Date.now() < waitUntil) {
        await sleep(Math.min(opts.recheckMs ?? 5000, Math.max(0, waitUntil - Date.now())), opts.signal);
        predicted = await rate();
      }
      if (exceeds(predicted, refuseAt)) {
        throw new RunRefusedError(
          `refusing to start "${opts.category}": ${explainPrediction(prediction, predicted, refuseAt)} Use --force to run anyway.`,
          prediction,
          predicted,
        );
      }
      return predicted;
    };
    let predicted = await makeRoom(await rate());

    // 2. Lock the environment.
    const why = opts.why ?? `${opts.category} run ${runId} on ${hostname()}`;
    progress(`waiting for the "${envName}" lock`);
    const lockWaitStart = Date.now();
    // A shared run is admitted, while no other can be, on the daemon as it is now plus what the
    // shared runs already in are still predicted to add (their need less what their own
    // containers use), plus its own prediction.
    const stats = new ContainerStatsReader(client);
    const admit = async (holders: LockHolder[]): Promise<string | undefined> => {
      const sample = await sampleForDecision(monitor, opts.signal);
      const usage = await usageByRun(
        client,
        stats,
        holders.flatMap((h) => (h.tag !== undefined ? [h.tag] : [])),
      );
      const together = admissionPrediction(prediction, holders, usage);
      const level = predictLevel(sample, together, thresholds);
      return exceeds(level, refuseAt) && !opts.force
        ? explainPrediction(together, level, refuseAt)
        : undefined;
    };
    handle = await lock.acquire(envName, {
      why,
      timeoutMs,
      signal: opts.signal,
      onCompromised: (err) => logger.warn(`lock "${envName}" was lost while the run held it: ${err.message}`),
      ...(opts.mode === 'shared'
        ? { mode: 'shared' as const, tag: runId, needs: { ...prediction.added }, admit }
        : {}),
    });
    // Whoever held the lock may have filled the daemon while this run waited: the prediction is
    // checked again, now that no other run of this environment can change the picture.
    const waitedMs = Date.now() - lockWaitStart;
    const lockedSample = await sampleForDecision(monitor, opts.signal);
    const again = predictLevel(lockedSample, prediction, thresholds);
    if (exceeds(again, refuseAt) && !exceeds(predicted, refuseAt)) {
      progress(
        `the daemon filled up while this run waited ${formatDuration(waitedMs)} for the "${envName}" lock.`,
      );
    }
    predicted = opts.force && exceeds(predicted, refuseAt) ? again : await makeRoom(again);

    // 3. Baseline, then sampling while the run goes. The sample just taken under the lock is
    // the baseline, unless making room (cleanup, waiting) has changed the daemon since.
    const baselineSample = predicted === again ? lockedSample : await sampleForDecision(monitor, opts.signal);
    const baseline = amountsOf(baselineSample);
    const peak = { ...baseline };
    let samples = 1;
    const cost = new RunCostTracker(runId);
    const track = (s: Sample): void => {
      samples++;
      cost.observe(s);
      const a = amountsOf(s);
      for (const k of AMOUNT_KEYS) peak[k] = Math.max(peak[k], a[k]);
    };
    monitor.onSample(track);
    // Ownership is exact, never by time: what the command creates through its own DOCKER_HOST
    // carries the run's labels. An endpoint the proxy cannot forward to (ssh) leaves the command
    // on the real one, and what it creates is then nobody's (kept by cleanup).
    try {
      proxy = await startOwnershipProxy({ endpoint: client.endpoint, runId, logger });
    } catch (err) {
      progress(
        `the run cannot have its own DOCKER_HOST (${(err as Error).message}): what it creates will not be attributed to it`,
      );
    }
    const startedAt = new Date();
    const environment = runEnvironment(runId, opts.category, envName, process.env, proxy?.dockerHost);
    await store
      .appendStart({
        kind: 'start',
        id: runId,
        category: opts.category,
        env: envName,
        command: recordedCommand(opts.command ?? [], opts.recordArgv),
        startedAt: startedAt.toISOString(),
        pid: process.pid,
        hostId: hostId(),
      })
      .catch((err: Error) => logger.warn(`run start not recorded: ${err.message}`));
    progress(`run ${runId} (${opts.category}) started with the "${envName}" lock`);
    monitor.start();
    const lockHandle = handle;
    let ending: Promise<RunReport> | undefined;

    const finish = async (outcome: RunOutcome): Promise<RunReport> => {
      try {
        const endedAt = new Date();
        // Nothing more is created as the run's once it has ended.
        await proxy?.close();
        monitor.pause();
        track(await monitor.sampleNow().catch(() => baselineSample));

        // 4. Record, clean up, release.
        const added = emptyAmounts();
        for (const k of AMOUNT_KEYS) added[k] = Math.max(0, peak[k] - baseline[k]);
        const record: RunRecord = {
          id: runId,
          category: opts.category,
          env: envName,
          command: recordedCommand(outcome.command ?? opts.command ?? [], opts.recordArgv),
          startedAt: startedAt.toISOString(),
          endedAt: endedAt.toISOString(),
          durationMs: endedAt.getTime() - startedAt.getTime(),
          exitCode: outcome.exitCode,
          signal: outcome.signal ?? undefined,
          baseline,
          peak,
          added,
          samples,
          ...cost.record(),
          ...(baselineSample.daemonId
            ? { daemon: { id: baselineSample.daemonId, endpoint: client.endpoint.host } }
            : {}),
          pid: process.pid,
          hostId: hostId(),
        };
        let cleanup: CleanupReport | undefined;
        if (opts.cleanupAfter !== false) {
          cleanup = await cleanUpAfter(client, {
            runId,
            endedAt,
            runsFile: store.file,
            addedVolumes: added.volumes > 0,
            cleanup: opts.cleanup,
            lock,
            logger,
          });
          if (cleanup) {
            record.cleanup = {
              removed: cleanup.removed.length,
              failed: cleanup.failed.length,
              kept: cleanup.kept.length,
            };
            progress(`cleanup after run ${runId}: ${summarize(cleanup)}`);
          }
        }
        await store.append(record).catch((err: Error) => logger.warn(`run record not saved: ${err.message}`));
        return {
          runId,
          category: opts.category,
          env: envName,
          prediction,
          predicted,
          preCleanup,
          record,
          cleanup,
          forced: !!opts.force,
        };
      } finally {
        try {
          await lockHandle.release();
        } finally {
          await monitor.dispose();
        }
      }
    };

    return {
      runId,
      env: environment,
      labels: { [Labels.runId]: runId },
      lock: lockHandle,
      category: opts.category,
      envName,
      startedAt,
      end(outcome: RunOutcome = { exitCode: null }): Promise<RunReport> {
        ending ??= finish(outcome);
        return ending;
      },
    };
  } catch (err) {
    try {
      await proxy?.close();
      await handle?.release();
    } finally {
      await monitor.dispose();
    }
    throw err;
  }
}

/**
 * Removes what a run left behind, under the cleanup lock: the resources carrying its label
 * (stamped by its own DOCKER_HOST, or set by the caller), running ones included since the run
 * has ended. Failures are logged: a run's result never depends on them.
 */
async function cleanUpAfter(
  client: DockerClient,
  o: {
    runId: string;
    endedAt: Date;
    runsFile: string;
    addedVolumes: boolean;
    cleanup?: TestEnvironmentOptions['cleanup'];
    lock: LockManager;
    logger: Logger;
  },
): Promise<CleanupReport | undefined> {
  // Volumes are listed with creation times to the second, and a pass keeps anything that may
  // have been created after it began: a volume made in the run's last second would survive.
  if (o.addedVolumes) await sleep(nextSecond(o.endedAt.getTime() + 1) - Date.now());
  try {
    return await runCleanup(client, {
      ...o.cleanup,
      olderThanMs: 0,
      runId: o.runId,
      endedRuns: [o.runId],
      runsFile: o.runsFile,
      logger: o.logger,
      // Its own resources only: runs ending together clean up together (shared), never beside a
      // daemon-wide pass (exclusive).
      lock: { manager: o.lock, mode: 'shared' },
    });
  } catch (err) {
    o.logger.warn(`cleanup after run ${o.runId} failed: ${(err as Error).message}`);
    return undefined;
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
