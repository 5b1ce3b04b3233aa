// The dashboard's prediction panel and the run targets of the health panel, from the run
// records `docker-stability run` writes. Pure: records in, plain views out.
import type { ThresholdSettings } from '../core/levels';
import type { Sample } from '../core/monitor/types';
import { predict, predictLevel } from '../core/runs/predict';
import type { RunRecord } from '../core/runs/records';
import { formatBytes } from '../core/util/duration';
import type { PredictionView } from '../shared/protocol';
import type { RunStats } from './health';

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

export function runsView(
  records: readonly RunRecord[],
  latest: Sample | undefined,
  thresholds: ThresholdSettings,
): { predictions: PredictionView[]; runs: RunStats[] } {
  const byCategory = new Map<string, RunRecord[]>();
  for (const r of records) byCategory.set(r.category, [...(byCategory.get(r.category) ?? []), r]);
  const predictions: PredictionView[] = [];
  const runs: RunStats[] = [];
  for (const [category, list] of [...byCategory].sort(([a], [b]) => a.localeCompare(b))) {
    runs.push({
      category,
      runs: list.length,
      succeeded: list.filter((r) => r.exitCode === 0).length,
      medianDurationMs: median(list.map((r) => r.durationMs)),
    });
    const p = predict(category, list);
    const a = p.added;
    const needs = `+${formatBytes(a.memoryBytes)} memory, +${(a.cpuPercent / 100).toFixed(2)} cores, +${a.containers} containers, +${a.networks} networks, +${a.volumes} volumes`;
    const level = latest ? predictLevel(latest, p, thresholds).level : undefined;
    predictions.push({ category, summary: `${needs} (${p.explanation})`, level, runs: p.runs });
  }
  return { predictions, runs };
}
