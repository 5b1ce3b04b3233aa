import type { DockerClient } from '../docker/client';
import { Labels } from '../labels';
import type { LockHolder } from '../lock';
import type { ContainerStatsReader } from '../monitor/containerStats';
import type { Prediction } from './predict';
import { AMOUNT_KEYS, emptyAmounts, type ResourceAmounts } from './records';

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
 * runs already in will still add, on top of the daemon as it is now.
 */
export function admissionPrediction(
  mine: Prediction,
  holders: readonly LockHolder[],
  usage: UsageByRun,
): Prediction {
  const coming = stillToCome(holders, usage);
  const added = { ...mine.added };
  for (const k of AMOUNT_KEYS) added[k] += coming[k];
  const others = holders.length;
  return {
    ...mine,
    added,
    explanation: others
      ? `${mine.explanation}; plus what the ${others} shared run${others === 1 ? '' : 's'} already running will still add by their own predictions`
      : mine.explanation,
  };
}

/** Reads what each run's containers (by their run-id label) use now: memory and CPU of running ones, counts of all. */
export async function usageByRun(
  client: DockerClient,
  reader: ContainerStatsReader,
  runIds: readonly string[],
): Promise<UsageByRun> {
  const usage: UsageByRun = new Map();
  if (runIds.length === 0) return usage;
  const wanted = new Set(runIds);
  const containers = (await client.listContainers({ label: [Labels.runId] })).filter((c) =>
    wanted.has(c.Labels[Labels.runId] ?? ''),
  );
  const runOf = new Map(containers.map((c) => [c.Id, c.Labels[Labels.runId] as string]));
  for (const c of containers) {
    const u = usage.get(runOf.get(c.Id) as string) ?? emptyAmounts();
    u.containers++;
    usage.set(runOf.get(c.Id) as string, u);
  }
  const running = containers.filter((c) => c.State === 'running').map((c) => c.Id);
  const { figures } = await reader.read(running);
  for (const f of figures) {
    const u = usage.get(runOf.get(f.id) as string);
    if (!u) continue;
    u.memoryBytes += f.memoryBytes;
    u.cpuPercent += f.cpuPercent;
  }
  return usage;
}
