import { hostname } from 'node:os';
import { runCleanup, summarize, type CleanupReport } from '../cleanup';
import type { DockerClient } from '../docker/client';
import { startOwnershipProxy, type OwnershipProxy } from '../docker/ownershipProxy';
import type { Level } from '../levels';
import { holderKey, type LockHandle, type LockHolder, type LockManager } from '../lock';
import type { Logger } from '../log';
import type { ResourceMonitor } from '../monitor/monitor';
import type { Sample } from '../monitor/types';
import { formatBytes, formatDuration } from '../util/duration';
import { admissionPrediction, recentSample, usageFromSample } from './admission';
import { exceeds, predict, predictLevel, type PredictedLevel, type Prediction } from './predict';
import { AMOUNT_KEYS, emptyAmounts, type ResourceAmounts, type RunStore } from './records';
import type { RunModeDecision } from './modeDecision';
import type { TestEnvironmentOptions } from './testRun';
import { RunCostTracker } from './cost';
import { errorMessage } from '../../shared/errors';

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

/** What every phase of one run works with, fixed when it begins. */
export interface RunSetup {
  readonly opts: TestEnvironmentOptions;
  /** The mode decided for the run (`opts.mode` is only what was asked). */
  readonly mode: RunModeDecision;
  readonly runId: string;
  readonly envName: string;
  readonly refuseAt: Level;
  readonly timeoutMs: number;
  readonly client: DockerClient;
  readonly store: RunStore;
  readonly lock: LockManager;
  readonly monitor: ResourceMonitor;
  readonly logger: Logger;
  readonly progress: (message: string) => void;
}

/** Sleeps, or rejects with the signal's reason when it is (or gets) aborted. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
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
export async function sampleForDecision(monitor: ResourceMonitor, signal?: AbortSignal): Promise<Sample> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await monitor.sampleNow();
    } catch (err) {
      if (attempt >= 3) throw err;
      await sleep(1000 * attempt, signal);
    }
  }
}

export function amountsOf(s: Sample): ResourceAmounts {
  return {
    memoryBytes: s.resources.memory.used,
    cpuPercent: s.resources.cpu.used,
    containers: s.resources.containers.used,
    networks: s.resources.networks.used,
    volumes: s.resources.volumes.used,
  };
}

/** Phase 1: what the category is predicted to need, from its recorded runs. */
export async function predictRun(s: RunSetup): Promise<Prediction> {
  const history = await s.store.list({ category: s.opts.category });
  return predict(s.opts.category, history, s.opts.prediction);
}

/** The level the daemon in `sample` would reach with `prediction` added. */
function rate(s: RunSetup, sample: Sample, prediction: Prediction): PredictedLevel {
  return predictLevel(sample, prediction, s.monitor.currentSettings.thresholds);
}

/** Over the limit: forced runs go on; others clean up orphans, wait for room, or refuse. */
async function makeRoom(
  s: RunSetup,
  prediction: Prediction,
  first: PredictedLevel,
  room: { preCleanup?: CleanupReport },
): Promise<PredictedLevel> {
  const { opts, refuseAt, progress } = s;
  if (!exceeds(first, refuseAt)) return first;
  if (opts.force) {
    progress(`${explainPrediction(prediction, first, refuseAt)} Running anyway (forced).`);
    return first;
  }
  progress(`${explainPrediction(prediction, first, refuseAt)} Cleaning up orphans first.`);
  room.preCleanup = await runCleanup(s.client, {
    ...opts.cleanup,
    runsFile: s.store.file,
    logger: s.logger,
    lock: { manager: s.lock },
  });
  progress(`orphan cleanup: ${summarize(room.preCleanup)}`);
  const waitUntil = Date.now() + s.timeoutMs;
  let predicted = rate(s, await sampleForDecision(s.monitor, opts.signal), prediction);
  while (exceeds(predicted, refuseAt) && Date.now() < waitUntil) {
    await sleep(Math.min(opts.recheckMs ?? 5000, Math.max(0, waitUntil - Date.now())), opts.signal);
    predicted = rate(s, await sampleForDecision(s.monitor, opts.signal), prediction);
  }
  if (exceeds(predicted, refuseAt)) {
    throw new RunRefusedError(
      `refusing to start "${opts.category}": ${explainPrediction(prediction, predicted, refuseAt)}`,
      prediction,
      predicted,
    );
  }
  return predicted;
}

/**
 * The level a shared run would reach on `sample` if the shared holders in now were gone, their
 * containers' present use taken off (as the queue asks "would it fit but for these").
 */
async function besideHolders(s: RunSetup, sample: Sample, prediction: Prediction): Promise<PredictedLevel> {
  const [status] = await s.lock.status(s.envName);
  const holders = (status?.shared ?? []).flatMap((m) => (m.holder && !m.stale ? [m.holder] : []));
  return rate(s, sample, admissionPrediction(prediction, [], usageFromSample(sample), holders));
}

/** How a run got in: its lock, the level it was admitted at, and the sample that is its baseline. */
export interface Admitted {
  handle: LockHandle;
  predicted: PredictedLevel;
  baselineSample: Sample;
  preCleanup?: CleanupReport;
}

/**
 * Phase 2: admission and the environment lock. An exclusive run asks for the lock while its first
 * sample is taken: when nobody held the lock from the request on (`contended` false), that sample
 * is as good as one taken under the lock and is the baseline. Otherwise, or when the run does not
 * fit (it then makes room without holding the environment), it is rated again under the lock:
 * the previous holder may have filled the daemon. A shared run is admitted, while no other can
 * be, on the daemon as it is plus what the shared runs already in are still predicted to add.
 */
export async function admitAndLock(
  s: RunSetup,
  predicting: Promise<Prediction>,
): Promise<Admitted & { prediction: Prediction }> {
  const { opts, envName, refuseAt, progress } = s;
  const shared = s.mode.mode === 'shared';
  // A shared request carries its needs; an exclusive one is made before the prediction is known
  // (reading the records, asking for the lock and the first sample go together).
  const sharedPrediction = shared ? await predicting : undefined;
  let prediction: Prediction;
  const room: { preCleanup?: CleanupReport } = {};
  const why = opts.why ?? `${opts.category} run ${s.runId} on ${hostname()}`;
  // One sample serves the look outside the turnstile and the decision under it (admission.ts).
  const admitSample = recentSample(() => sampleForDecision(s.monitor, opts.signal));
  const admitWith =
    (mine: Prediction) =>
    async (holders: LockHolder[], without?: readonly LockHolder[]): Promise<string | undefined> => {
      // `without` are present too (counted as gone only in this question). A holder that has
      // changed its needs since the sample (its command ended) counts as one that left: its
      // containers' use may be gone from the daemon too.
      const sample = await admitSample([...holders, ...(without ?? [])].map(holderKey));
      const together = admissionPrediction(mine, holders, usageFromSample(sample), without);
      const level = rate(s, sample, together);
      return exceeds(level, refuseAt) && !opts.force
        ? explainPrediction(together, level, refuseAt)
        : undefined;
    };
  // The request made beside the first sample can be withdrawn on its own.
  const cancel = new AbortController();
  const acquire = (signal: AbortSignal | undefined): Promise<LockHandle> =>
    s.lock.acquire(envName, {
      why,
      timeoutMs: s.timeoutMs,
      signal,
      onCompromised: (err) =>
        s.logger.warn(`lock "${envName}" was lost while the run held it: ${err.message}`),
      ...(sharedPrediction
        ? {
            mode: 'shared' as const,
            tag: s.runId,
            needs: { ...sharedPrediction.added },
            admit: admitWith(sharedPrediction),
          }
        : {}),
    });
  const giveUp = async (asked: Promise<LockHandle> | undefined): Promise<void> => {
    cancel.abort();
    await asked?.then(
      (h) => h.release(),
      () => undefined,
    );
  };
  const lockWaitStart = Date.now();
  progress(`waiting for the "${envName}" lock`);
  let asking = shared
    ? undefined
    : acquire(opts.signal ? AbortSignal.any([opts.signal, cancel.signal]) : cancel.signal);
  asking?.catch(() => undefined);
  let first: Sample;
  let predicted: PredictedLevel;
  try {
    [first, prediction] = await Promise.all([
      shared ? admitSample() : sampleForDecision(s.monitor, opts.signal),
      predicting,
    ]);
    predicted = rate(s, first, prediction);
    // What the shared runs still in use is theirs to free: waiting for it is the queue's (in
    // order, woken as each leaves). Room is made here only when this run would not fit beside
    // the rest of the daemon (orphans, load outside the lock) even once they have all gone.
    if (shared && exceeds(predicted, refuseAt) && !opts.force)
      predicted = await besideHolders(s, first, prediction);
    if (asking && exceeds(predicted, refuseAt) && !opts.force) {
      await giveUp(asking);
      asking = undefined;
    }
    predicted = await makeRoom(s, prediction, predicted, room);
  } catch (err) {
    await giveUp(asking);
    throw err;
  }
  const fast = asking !== undefined;
  const handle = await (asking ?? acquire(opts.signal));
  try {
    if (fast && !handle.contended) return { handle, prediction, predicted, baselineSample: first, ...room };
    const waitedMs = Date.now() - lockWaitStart;
    const lockedSample = shared ? await admitSample() : await sampleForDecision(s.monitor, opts.signal);
    const again = rate(s, lockedSample, prediction);
    if (exceeds(again, refuseAt) && !exceeds(predicted, refuseAt)) {
      progress(
        `the daemon filled up while this run waited ${formatDuration(waitedMs)} for the "${envName}" lock.`,
      );
    }
    predicted =
      opts.force && exceeds(predicted, refuseAt) ? again : await makeRoom(s, prediction, again, room);
    // The sample just taken under the lock is the baseline, unless making room (cleanup,
    // waiting) has changed the daemon since.
    const baselineSample =
      predicted === again ? lockedSample : await sampleForDecision(s.monitor, opts.signal);
    return { handle, prediction, predicted, baselineSample, ...room };
  } catch (err) {
    await handle.release();
    throw err;
  }
}

/**
 * The run's own DOCKER_HOST, started beside admission (it needs neither the lock nor a sample).
 * Ownership is exact, never by time: what the command creates through it carries the run's
 * labels. An endpoint the proxy cannot forward to (ssh) leaves the command on the real one, and
 * what it creates is then nobody's (kept by cleanup).
 */
export async function startProxy(s: RunSetup): Promise<OwnershipProxy | undefined> {
  try {
    return await startOwnershipProxy({ endpoint: s.client.endpoint, runId: s.runId, logger: s.logger });
  } catch (err) {
    s.progress(
      `the run cannot have its own DOCKER_HOST (${errorMessage(err)}): what it creates will not be attributed to it`,
    );
    return undefined;
  }
}

/** Phase 3 and 4: the baseline, then the peak of every sample while the run goes. */
export class RunMeasure {
  readonly baseline: ResourceAmounts;
  readonly peak: ResourceAmounts;
  samples = 1;
  /** The run's own containers (by its run-id label), apart from the daemon's other load. */
  readonly cost: RunCostTracker;

  constructor(
    readonly baselineSample: Sample,
    runId: string,
  ) {
    this.baseline = amountsOf(baselineSample);
    this.peak = { ...this.baseline };
    this.cost = new RunCostTracker(runId);
  }

  readonly track = (sample: Sample): void => {
    this.samples++;
    this.cost.observe(sample);
    const a = amountsOf(sample);
    for (const k of AMOUNT_KEYS) this.peak[k] = Math.max(this.peak[k], a[k]);
  };

  /** What the run added at its peak over its baseline. */
  added(): ResourceAmounts {
    const added = emptyAmounts();
    for (const k of AMOUNT_KEYS) added[k] = Math.max(0, this.peak[k] - this.baseline[k]);
    return added;
  }
}

/**
 * Phase 5: removes what a run left behind, under the cleanup lock: the resources carrying its label
 * (stamped by its own DOCKER_HOST, or set by the caller), running ones included since the run
 * has ended. Failures are logged: a run's result never depends on them.
 */
export async function cleanUpAfter(
  s: RunSetup,
  o: { endedAt: Date; addedVolumes: boolean },
): Promise<CleanupReport | undefined> {
  // Volumes are listed with creation times to the second, and a pass keeps anything that may
  // have been created after it began: a volume made in the run's last second would survive.
  if (o.addedVolumes) await sleep(Math.ceil((o.endedAt.getTime() + 1) / 1000) * 1000 - Date.now());
  try {
    return await runCleanup(s.client, {
      ...s.opts.cleanup,
      olderThanMs: 0,
      runId: s.runId,
      endedRuns: [s.runId],
      runsFile: s.store.file,
      logger: s.logger,
      // Its own resources only: runs ending together clean up together (shared), never beside a
      // daemon-wide pass (exclusive).
      lock: { manager: s.lock, mode: 'shared' },
    });
  } catch (err) {
    s.logger.warn(`cleanup after run ${s.runId} failed: ${errorMessage(err)}`);
    return undefined;
  }
}
