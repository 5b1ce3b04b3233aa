import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { runCleanup, summarize, type CleanupOptions, type CleanupReport } from '../cleanup';
import type { DockerClient } from '../docker/client';
import { Labels } from '../labels';
import type { Level } from '../levels';
import { DEFAULT_LOCK_NAME, LockManager, type LockHandle } from '../lock';
import { silentLogger, type Logger } from '../log';
import { ResourceMonitor } from '../monitor/monitor';
import type { MonitorSettings } from '../monitor/settings';
import type { Sample } from '../monitor/types';
import { formatBytes } from '../util/duration';
import { exceeds, predict, predictLevel, type PredictedLevel, type Prediction, type PredictionOptions } from './predict';
import { AMOUNT_KEYS, emptyAmounts, RunStore, type ResourceAmounts, type RunRecord } from './records';

export interface TestEnvironmentOptions {
  /** What kind of run this is (e.g. `integration`, `e2e`): the unit of prediction. */
  category: string;
  /** The environment lock to hold (default `test`). */
  env?: string;
  why?: string;
  client: DockerClient;
  lock?: LockManager;
  store?: RunStore;
  monitor?: Partial<MonitorSettings>;
  prediction?: PredictionOptions;
  /** Refuse (after an orphan cleanup and waiting) when the predicted level reaches this. Default EMERGENCY. */
  refuseAt?: Level;
  /** Run even when the prediction says no. */
  force?: boolean;
  /** How long to wait for room on the daemon and then for the lock. Default 5 minutes each. */
  timeoutMs?: number;
  /** How often to re-check the prediction while waiting for room. Default 5 s. */
  recheckMs?: number;
  /** Cleanup settings (test project patterns, protect label) for the orphan pass before a run. */
  cleanup?: Pick<CleanupOptions, 'testProjectPatterns' | 'protectLabel' | 'olderThanMs'>;
  /** Remove what the run left behind (default true). */
  cleanupAfter?: boolean;
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
  /** Variables to export to test processes: DOCKER_STABILITY_RUN_ID, COMPOSE_PROJECT_NAME, DOCKER_STABILITY_RUN_LABEL... */
  env: Record<string, string>;
  /** The label the caller's own containers can adopt so cleanup knows them as this run's. */
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

/** The variables a run exports. A COMPOSE_PROJECT_NAME the caller set is kept. */
export function runEnvironment(runId: string, category: string, envName: string, base: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return {
    DOCKER_STABILITY_RUN_ID: runId,
    DOCKER_STABILITY_CATEGORY: category,
    DOCKER_STABILITY_ENV: envName,
    DOCKER_STABILITY_RUN_LABEL: `${Labels.runId}=${runId}`,
    COMPOSE_PROJECT_NAME: base.COMPOSE_PROJECT_NAME || `dstab-${runId}`,
  };
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
      const show = (n: number): string => (k === 'memory' ? formatBytes(n) : k === 'cpu' ? `${Math.round(n)}%` : String(n));
      return `${k} ${show(f.now)} now + ${show(f.added)} predicted = ${show(f.predicted)} of ${show(f.capacity)} (${f.percent}%)`;
    });
  return `predicted level ${pl.level} (limit ${limit}): ${parts.join('; ')}. Basis: ${p.explanation}.`;
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(signal.reason ?? new Error('aborted'));
    });
  });

/**
 * Runs `fn` as one controlled test run: predict what the category needs and refuse (after an
 * orphan cleanup and a wait) when it would push the daemon to `refuseAt`; hold the environment
 * lock; sample the daemon while `fn` runs; record the run for later predictions; remove what
 * the run left behind; release the lock. `fn`'s result or error passes through.
 */
export async function withTestEnvironment<T>(
  opts: TestEnvironmentOptions,
  fn: (env: TestEnvironment) => Promise<T>,
): Promise<{ result: T; report: RunReport }> {
  const logger = opts.logger ?? silentLogger;
  const progress = opts.onProgress ?? ((m: string) => logger.info(m));
  const envName = opts.env ?? DEFAULT_LOCK_NAME;
  const refuseAt = opts.refuseAt ?? 'EMERGENCY';
  const timeoutMs = opts.timeoutMs ?? 300_000;
  const store = opts.store ?? new RunStore(undefined, { logger });
  const lock = opts.lock ?? new LockManager({ logger });
  const monitor = new ResourceMonitor(opts.client, { ...opts.monitor, intervalMs: opts.sampleIntervalMs ?? 1000 }, { logger });
  const thresholds = monitor.currentSettings.thresholds;
  const runId = newRunId();

  try {
    // 1. Predict, and make room or refuse.
    const history = await store.list({ category: opts.category });
    const prediction = predict(opts.category, history, opts.prediction);
    let predicted = predictLevel(await monitor.sampleNow(), prediction, thresholds);
    let preCleanup: CleanupReport | undefined;
    if (exceeds(predicted, refuseAt) && !opts.force) {
      progress(`${explainPrediction(prediction, predicted, refuseAt)} Cleaning up orphans first.`);
      preCleanup = await runCleanup(opts.client, { ...opts.cleanup, logger, lock: { manager: lock } });
      progress(`orphan cleanup: ${summarize(preCleanup)}`);
      const waitUntil = Date.now() + timeoutMs;
      predicted = predictLevel(await monitor.sampleNow(), prediction, thresholds);
      while (exceeds(predicted, refuseAt) && Date.now() < waitUntil) {
        await sleep(Math.min(opts.recheckMs ?? 5000, Math.max(0, waitUntil - Date.now())), opts.signal);
        predicted = predictLevel(await monitor.sampleNow(), prediction, thresholds);
      }
      if (exceeds(predicted, refuseAt)) {
        throw new RunRefusedError(
          `refusing to start "${opts.category}": ${explainPrediction(prediction, predicted, refuseAt)} Use --force to run anyway.`,
          prediction,
          predicted,
        );
      }
    } else if (exceeds(predicted, refuseAt)) {
      progress(`${explainPrediction(prediction, predicted, refuseAt)} Running anyway (forced).`);
    }

    // 2. Lock the environment.
    const why = opts.why ?? `${opts.category} run ${runId} on ${hostname()}`;
    progress(`waiting for the "${envName}" lock`);
    const handle = await lock.acquire(envName, {
      why,
      timeoutMs,
      signal: opts.signal,
      onCompromised: (err) => logger.warn(`lock "${envName}" was lost while the run held it: ${err.message}`),
    });
    try {
      // 3. Run, sampling the daemon.
      const baselineSample = await monitor.sampleNow();
      const baseline = amountsOf(baselineSample);
      const peak = { ...baseline };
      let samples = 1;
      const track = (s: Sample): void => {
        samples++;
        const a = amountsOf(s);
        for (const k of AMOUNT_KEYS) peak[k] = Math.max(peak[k], a[k]);
      };
      monitor.onSample(track);
      const startedAt = new Date();
      const environment = runEnvironment(runId, opts.category, envName);
      progress(`run ${runId} (${opts.category}) started with the "${envName}" lock`);
      monitor.start();
      let result: T | undefined;
      let failure: unknown;
      let failed = false;
      try {
        result = await fn({ runId, env: environment, labels: { [Labels.runId]: runId }, lock: handle });
      } catch (err) {
        failed = true;
        failure = err;
      }
      const endedAt = new Date();
      monitor.pause();
      track(await monitor.sampleNow().catch(() => baselineSample));

      // 4. Record, clean up, release.
      const added = emptyAmounts();
      for (const k of AMOUNT_KEYS) added[k] = Math.max(0, peak[k] - baseline[k]);
      const exit = exitOf(failed ? failure : result, failed);
      const record: RunRecord = {
        id: runId,
        category: opts.category,
        env: envName,
        command: exit.command,
        startedAt: startedAt.toISOString(),
        endedAt: endedAt.toISOString(),
        durationMs: endedAt.getTime() - startedAt.getTime(),
        exitCode: exit.code,
        signal: exit.signal,
        baseline,
        peak,
        added,
        samples,
      };
      let cleanup: CleanupReport | undefined;
      if (opts.cleanupAfter !== false) {
        try {
          cleanup = await runCleanup(opts.client, {
            ...opts.cleanup,
            runId,
            adoptWindow: { from: startedAt, to: endedAt },
            olderThanMs: 0,
            logger,
            lock: { manager: lock },
          });
          record.cleanup = { removed: cleanup.removed.length, failed: cleanup.failed.length, kept: cleanup.kept.length };
          progress(`cleanup after run ${runId}: ${summarize(cleanup)}`);
        } catch (err) {
          logger.warn(`cleanup after run ${runId} failed: ${(err as Error).message}`);
        }
      }
      await store.append(record).catch((err: Error) => logger.warn(`run record not saved: ${err.message}`));
      const report: RunReport = { runId, category: opts.category, env: envName, prediction, predicted, preCleanup, record, cleanup, forced: !!opts.force };
      if (failed) throw Object.assign(failure as object, { report });
      return { result: result as T, report };
    } finally {
      await handle.release();
    }
  } finally {
    await monitor.dispose();
  }
}

/** A command's outcome as `fn` may return it; other results count as success. */
export interface CommandOutcome {
  command: string[];
  exitCode: number | null;
  signal?: NodeJS.Signals | null;
}

function exitOf(value: unknown, failed: boolean): { code: number | null; signal?: string; command: string[] } {
  const v = value as Partial<CommandOutcome> | undefined;
  if (!failed && v && Array.isArray(v.command) && 'exitCode' in v) {
    return { code: v.exitCode ?? null, signal: v.signal ?? undefined, command: v.command };
  }
  return { code: failed ? 1 : 0, command: [] };
}
