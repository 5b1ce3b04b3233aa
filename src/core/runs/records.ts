import { promises as fsp } from 'node:fs';
import { dirname, join } from 'node:path';
import { silentLogger, type Logger } from '../log';
import { stateDir } from '../paths';
import { writeFileAtomic } from '../util/fs';
import { readJsonLines, type JsonLines } from '../util/jsonLines';
import type { RunCost } from './cost';
import { errorMessage } from '../../shared/errors';

/** What a run added on top of the daemon's load when it started (peaks minus baseline). */
export interface ResourceAmounts {
  memoryBytes: number;
  /** Percent of one core (200 = two cores). */
  cpuPercent: number;
  containers: number;
  networks: number;
  volumes: number;
}

export const AMOUNT_KEYS: readonly (keyof ResourceAmounts)[] = [
  'memoryBytes',
  'cpuPercent',
  'containers',
  'networks',
  'volumes',
];

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
  /** Its own containers' memory and CPU (absent in records written before it was measured). */
  cost?: RunCost;
  /** The daemon the run used, by its own ID (DaemonIdentity); absent in records written before it was recorded. */
  daemon?: { id: string; endpoint: string };
  cleanup?: { removed: number; failed: number; kept: number };
  /** The process that ran it and its pid space (lock/process hostId). */
  pid?: number;
  hostId?: string;
}

/**
 * Appended when a run starts, so that a run killed before it could write its record (kill -9,
 * a cancelled CI job) can still be judged: gone once its pid is dead on the same host.
 */
export interface RunStart {
  kind: 'start';
  id: string;
  category: string;
  env: string;
  /** The command's name, or its whole argv when the user opted in. */
  command: string[];
  startedAt: string;
  pid: number;
  hostId: string;
}

/** What the records say about one run: ended (and when), or started by which process. */
export interface RunState {
  endedAt?: string;
  pid?: number;
  hostId?: string;
}

function isRunStart(x: unknown): x is RunStart {
  const r = x as Partial<RunStart> | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    r.kind === 'start' &&
    typeof r.id === 'string' &&
    Number.isSafeInteger(r.pid) &&
    typeof r.hostId === 'string'
  );
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

  /** Finished runs, oldest first. */
  async list(filter: { category?: string } = {}): Promise<RunRecord[]> {
    const { records } = await this.read();
    return filter.category === undefined ? records : records.filter((r) => r.category === filter.category);
  }

  /** Per run id, whether it ended or which process started it. */
  async states(): Promise<Map<string, RunState>> {
    const { records, starts } = await this.read();
    const out = new Map<string, RunState>();
    for (const s of starts) out.set(s.id, { pid: s.pid, hostId: s.hostId });
    for (const r of records)
      out.set(r.id, { pid: r.pid, hostId: r.hostId, ...out.get(r.id), endedAt: r.endedAt });
    return out;
  }

  private async read(): Promise<{ records: RunRecord[]; starts: RunStart[] }> {
    const records: RunRecord[] = [];
    const starts: RunStart[] = [];
    let read: JsonLines<RunStart | RunRecord> | undefined;
    try {
      read = await readJsonLines(
        this.file,
        (v): v is RunStart | RunRecord => isRunStart(v) || isRunRecord(v),
      );
    } catch (err) {
      this.logger.warn(`run records ${this.file} could not be read: ${errorMessage(err)}`);
      return { records, starts };
    }
    const skipped = read?.skipped ?? 0;
    for (const v of read?.records ?? []) {
      if (isRunStart(v)) starts.push(v);
      else records.push(v);
    }
    if (skipped) this.logger.warn(`run records ${this.file}: skipped ${skipped} corrupt record(s)`);
    return { records, starts };
  }

  async appendStart(start: RunStart): Promise<void> {
    await fsp.mkdir(dirname(this.file), { recursive: true });
    await fsp.appendFile(this.file, JSON.stringify(start) + '\n');
  }

  async append(record: RunRecord): Promise<void> {
    await fsp.mkdir(dirname(this.file), { recursive: true });
    await fsp.appendFile(this.file, JSON.stringify(record) + '\n');
    const { records, starts } = await this.read();
    if (records.length > this.keep * 1.5) {
      // Starts of runs with no record yet stay: they may be running, or killed and still to judge.
      const ended = new Set(records.map((r) => r.id));
      const open = starts.filter((s) => !ended.has(s.id));
      const kept = [...open, ...records.slice(-this.keep)];
      await writeFileAtomic(this.file, kept.map((r) => JSON.stringify(r)).join('\n') + '\n');
    }
  }
}
