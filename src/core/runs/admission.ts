import type { LockHolder } from '../lock';
import type { Sample } from '../monitor/types';
import { traceMark } from '../util/trace';
import type { Prediction } from './predict';
import { AMOUNT_KEYS, emptyAmounts, type ResourceAmounts } from './records';

/**
 * How old the sample a shared run is admitted on may be. Holders that joined after it are
 * counted with their whole predicted need (none of their use is in it), so an older sample only
 * misses load from outside the shared runs, for this long at most.
 */
export const ADMIT_SAMPLE_MAX_AGE_MS = 1_000;

/**
 * `take`, reused while its last result is younger than maxAgeMs (counted from when it was asked
 * for) and, when the caller says which holders are present (`present`, their `holderKey`s), while
 * every holder present when it was taken still is, with the same needs: a holder that left (or
 * whose command ended) took its containers' use with it, and a sample from before would refuse a
 * waiter for room that is free again.
 */
export function recentSample(
  take: () => Promise<Sample>,
  maxAgeMs = ADMIT_SAMPLE_MAX_AGE_MS,
): (present?: readonly string[]) => Promise<Sample> {
  let last: { at: number; sample: Promise<Sample>; present?: ReadonlySet<string> } | undefined;
  // Holders who joined after a sample do not make it stale: none of their use is in it, and they
  // count with their whole need.
  return (present) => {
    const now = new Set(present);
    const someoneLeft = !!present && !!last?.present && [...last.present].some((t) => !now.has(t));
    if (!last || Date.now() - last.at > maxAgeMs || someoneLeft) {
      traceMark('sample-start');
      const entry = {
        at: Date.now(),
        sample: take().finally(() => traceMark('sample-end')),
        ...(present ? { present: now } : {}),
      };
      entry.sample.catch(() => {
        if (last === entry) last = undefined;
      });
      last = entry;
    } else if (present && !last.present) {
      // Taken before anyone asked with holders (a run's first sample): those of the first question.
      last.present = now;
    }
    return last.sample;
  };
}

/** What a shared run's own containers use right now, by run id. */
export type UsageByRun = Map<string, ResourceAmounts>;

/**
 * What the shared runs already in will still add: each one's predicted need less what its own
 * containers already use (they are in the daemon's figures), never below zero. A run whose
 * containers cannot be told apart (no run id) counts with its whole need.
 */
export function stillToCome(holders: readonly LockHolder[], usage: UsageByRun): ResourceAmounts {
  const total = emptyAmounts();
  for (const h of holders) {
    const used = (h.tag !== undefined ? usage.get(h.tag) : undefined) ?? emptyAmounts();
    for (const k of AMOUNT_KEYS) total[k] += Math.max(0, (h.needs?.[k] ?? 0) - used[k]);
  }
  return total;
}

/**
 * The prediction a shared run is admitted on: its own predicted addition plus what the shared
 * runs already in will still add, on top of the daemon as it is now. `without`: holders to count
 * as gone, their present use taken off the daemon's figures (the queue's "would it fit but for
 * these" question).
 */
export function admissionPrediction(
  mine: Prediction,
  holders: readonly LockHolder[],
  usage: UsageByRun,
  without: readonly LockHolder[] = [],
): Prediction {
  const coming = stillToCome(holders, usage);
  const added = { ...mine.added };
  for (const k of AMOUNT_KEYS) added[k] += coming[k];
  for (const h of without) {
    const used = h.tag !== undefined ? usage.get(h.tag) : undefined;
    for (const k of AMOUNT_KEYS) added[k] -= used?.[k] ?? 0;
  }
  const others = holders.length;
  const gone = without.length
    ? `, counting ${without.length} other shared run${without.length === 1 ? '' : 's'} as gone`
    : '';
  return {
    ...mine,
    added,
    explanation: others
      ? `${mine.explanation}; plus what the ${others} shared run${others === 1 ? '' : 's'} already running will still add by their own predictions${gone}`
      : `${mine.explanation}${gone}`,
  };
}

/**
 * What each run's containers (by their run-id label) use, from the per-owner totals a sample
 * carries anyway: memory, CPU and the count of running containers. No daemon call: admission
 * under the turnstile stays a matter of milliseconds. A run whose containers are not running
 * counts no use, so its whole need is still to come (the cautious side).
 */
export function usageFromSample(sample: Sample): UsageByRun {
  const usage: UsageByRun = new Map();
  for (const o of sample.owners ?? []) {
    if (o.owner.kind !== 'run') continue;
    usage.set(o.owner.id, {
      ...emptyAmounts(),
      memoryBytes: o.memoryBytes,
      cpuPercent: o.cpuPercent,
      containers: o.containers,
    });
  }
  return usage;
}
