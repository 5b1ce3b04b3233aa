import { promises as fsp } from 'node:fs';
import { dirname, join } from 'node:path';
import { silentLogger, type Logger } from '../log';
import { stateDir } from '../paths';
import { readFileIfExists, writeFileAtomic } from '../util/fs';

/** What a run added on top of the daemon's load when it started (peaks minus baseline). */
export interface ResourceAmounts {
  memoryBytes: number;
  /** Percent of one core (200 = two cores). */
  cpuPercent: number;
  containers: number;
  networks: number;
  volumes: number;
}

export const AMOUNT_KEYS: readonly (keyof ResourceAmounts)[] = ['memoryBytes', 'cpuPercent', 'containers', 'networks', 'volumes'];

export interface RunRecord {
  id: string;
  category: string;
  env: string;
  command: string[];
  startedAt: string;
  endedAt: string;
  durationMs: number;
  /** The command's exit code; null when it was killed by a signal. */
  exitCode: number | null;
  signal?: string;
  /** The daemon's figures just before the command started. */
  baseline: ResourceAmounts;
  /** The highest figures seen while it ran. */
  peak: ResourceAmounts;
  /** peak - baseline, floored at zero: what this run needed. */
  added: ResourceAmounts;
  samples: number;
  /** The daemon the run used, by its own ID (DaemonIdentity); absent in records written before it was recorded. */
  daemon?: { id: string; endpoint: string };
  cleanup?: { removed: number; failed: number; kept: number };
}

export function emptyAmounts(): ResourceAmounts {
  return { memoryBytes: 0, cpuPercent: 0, containers: 0, networks: 0, volumes: 0 };
}

export function isAmounts(x: unknown): x is ResourceAmounts {
  if (typeof x !== 'object' || x === null) return false;
  const o = x as Record<string, unknown>;
  return AMOUNT_KEYS.every((k) => typeof o[k] === 'number' && Number.isFinite(o[k]) && (o[k] as number) >= 0);
}

export function isRunRecord(x: unknown): x is RunRecord {
  if (typeof x !== 'object' || x === null) return false;
  const r = x as Record<string, unknown>;
  return (
    typeof r.id === 'string' &&
    typeof r.category === 'string' &&
    typeof r.startedAt === 'string' &&
    typeof r.durationMs === 'number' &&
    (typeof r.exitCode === 'number' || r.exitCode === null) &&
    isAmounts(r.added) &&
    isAmounts(r.peak)
  );
}

export function defaultRunsFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(stateDir(env), 'runs.jsonl');
}

/**
 * Run records as JSON Lines: appended one per run (appends of one short line are effectively
 * atomic on local file systems), compacted atomically to the newest `keep` records. Corrupt
 * lines are skipped with a warning, never fatal.
 */
export class RunStore {
  private readonly logger: Logger;

  constructor(
    readonly file: string = defaultRunsFile(),
    opts: { logger?: Logger; keep?: number } = {},
  ) {
    this.logger = opts.logger ?? silentLogger;
    this.keep = opts.keep ?? 2000;
  }

  private readonly keep: number;

  async list(filter: { category?: string } = {}): Promise<RunRecord[]> {
    let text: string | undefined;
    try {
      text = await readFileIfExists(this.file);
    } catch (err) {
      this.logger.warn(`run records ${this.file} could not be read: ${(err as Error).message}`);
      return [];
    }
    if (!text) return [];
    const out: RunRecord[] = [];
    let skipped = 0;
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        const v: unknown = JSON.parse(line);
        if (isRunRecord(v)) out.push(v);
        else skipped++;
      } catch {
        skipped++;
      }
    }
    if (skipped) this.logger.warn(`run records ${this.file}: skipped ${skipped} corrupt record(s)`);
    return filter.category === undefined ? out : out.filter((r) => r.category === filter.category);
  }

  async append(record: RunRecord): Promise<void> {
    await fsp.mkdir(dirname(this.file), { recursive: true });
    await fsp.appendFile(this.file, JSON.stringify(record) + '\n');
    const all = await this.list();
    if (all.length > this.keep * 1.5) {
      await writeFileAtomic(this.file, all.slice(-this.keep).map((r) => JSON.stringify(r)).join('\n') + '\n');
    }
  }
}
