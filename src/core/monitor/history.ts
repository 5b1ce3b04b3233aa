import { promises as fsp } from 'node:fs';
import { dirname } from 'node:path';
import { isLevel, RESOURCE_KINDS } from '../levels';
import { silentLogger, type Logger } from '../log';
import { writeFileAtomic } from '../util/fs';
import { readJsonLines, type JsonLines } from '../util/jsonLines';
import type { Sample } from './types';
import { errorMessage } from '../../shared/errors';

export const DEFAULT_HISTORY_SIZE = 1000;

/** A structural check of one persisted record: anything else is skipped on load. */
export function isSample(x: unknown): x is Sample {
  if (typeof x !== 'object' || x === null) return false;
  const s = x as Record<string, unknown>;
  if (typeof s.sampledAt !== 'string' || Number.isNaN(Date.parse(s.sampledAt)) || !isLevel(s.level))
    return false;
  if (typeof s.endpoint !== 'string' || typeof s.resources !== 'object' || s.resources === null) return false;
  const r = s.resources as Record<string, unknown>;
  return RESOURCE_KINDS.every((k) => {
    const f = r[k] as Record<string, unknown> | undefined;
    return (
      typeof f === 'object' &&
      f !== null &&
      ['used', 'capacity', 'percent'].every((n) => typeof f[n] === 'number' && Number.isFinite(f[n])) &&
      isLevel(f.level)
    );
  });
}

export interface BoundedLogOptions<T> {
  file?: string;
  logger?: Logger;
  /** What the file holds, for messages (`history`, `incidents`). */
  what?: string;
  /** A structural check of one persisted record: anything else is skipped on load. */
  isValid: (x: unknown) => x is T;
}

/**
 * The last N records in memory, optionally persisted as JSON Lines so they survive a reload.
 * Appends are one line each; the file is rewritten atomically (temp + rename) when it has grown
 * to half again its capacity. A torn or corrupt line costs only that record.
 */
export class BoundedLog<T> {
  protected buf: T[] = [];
  private linesInFile = 0;
  /** Set when the file holds damage (corrupt lines, a torn last line): the next write rewrites it whole. */
  private rewriteNext = false;
  private writes: Promise<void> = Promise.resolve();
  private readonly logger: Logger;
  private readonly what: string;
  private readonly isValid: (x: unknown) => x is T;
  readonly file: string | undefined;
  /**
   * Whether push() writes to the file. A SharedMonitor follower turns it off: the file is the
   * leader's, and a record the follower makes for itself stays in its memory.
   */
  persist = true;

  constructor(
    private capacity: number,
    opts: BoundedLogOptions<T>,
  ) {
    this.what = opts.what ?? 'history';
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new Error(`${this.what} size must be a positive integer (got ${capacity})`);
    this.file = opts.file;
    this.logger = opts.logger ?? silentLogger;
    this.isValid = opts.isValid;
  }

  get size(): number {
    return this.buf.length;
  }

  toArray(): T[] {
    return this.buf.slice();
  }

  latest(): T | undefined {
    return this.buf[this.buf.length - 1];
  }

  /** Changes the capacity; the oldest records beyond it are dropped. */
  resize(capacity: number): void {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new Error(`${this.what} size must be a positive integer (got ${capacity})`);
    this.capacity = capacity;
    if (this.buf.length > capacity) this.buf = this.buf.slice(-capacity);
  }

  /**
   * Replaces the in-memory records with the file's (followers call this to pick up a leader's
   * records; `follower` leaves a half-written last line alone). Corrupt lines are skipped with
   * one warning. Returns what was loaded and skipped.
   */
  async load(opts: { follower?: boolean } = {}): Promise<{ loaded: number; skipped: number }> {
    if (!this.file) return { loaded: 0, skipped: 0 };
    await this.writes;
    let read: JsonLines<T> | undefined;
    try {
      // A follower may read while the writer is mid-append: an unterminated last line is the
      // writer's business, not damage to report or repair.
      read = await readJsonLines(this.file, this.isValid, { dropPartialTail: opts.follower === true });
    } catch (err) {
      this.logger.warn(`${this.what} file ${this.file} could not be read: ${errorMessage(err)}`);
      return { loaded: 0, skipped: 0 };
    }
    if (read === undefined) return { loaded: 0, skipped: 0 };
    const { records: samples, skipped } = read;
    if (skipped > 0)
      this.logger.warn(
        `${this.what} file ${this.file}: skipped ${skipped} corrupt record(s), kept ${samples.length}`,
      );
    this.buf = samples.slice(-this.capacity);
    this.linesInFile = samples.length + skipped;
    // An append after a torn last line (no trailing newline) would be glued onto it and lost.
    this.rewriteNext = !opts.follower && (skipped > 0 || read.tornTail || read.truncated);
    return { loaded: this.buf.length, skipped };
  }

  /** Adds a record and, with a file (and `persist`), appends it (writes are serialised, never interleaved). */
  push(sample: T): void {
    this.buf.push(sample);
    if (this.buf.length > this.capacity) this.buf.splice(0, this.buf.length - this.capacity);
    if (!this.file || !this.persist) return;
    const file = this.file;
    this.writes = this.writes.then(async () => {
      try {
        if (this.linesInFile === 0) await fsp.mkdir(dirname(file), { recursive: true });
        if (this.rewriteNext || this.linesInFile + 1 > Math.ceil(this.capacity * 1.5))
          await this.rewrite(file);
        else {
          await fsp.appendFile(file, JSON.stringify(sample) + '\n');
          this.linesInFile++;
        }
      } catch (err) {
        this.logger.warn(`${this.what} file ${file} could not be written: ${errorMessage(err)}`);
      }
    });
  }

  private async rewrite(file: string): Promise<void> {
    const text = this.buf.map((s) => JSON.stringify(s)).join('\n') + '\n';
    await writeFileAtomic(file, text);
    this.linesInFile = this.buf.length;
    this.rewriteNext = false;
  }

  /** Waits for pending writes; with `compact`, rewrites the file to exactly the buffer. */
  async flush(compact = false): Promise<void> {
    await this.writes;
    if (compact && this.file && this.buf.length > 0) {
      const file = this.file;
      this.writes = this.rewrite(file).catch((err: Error) =>
        this.logger.warn(`${this.what} file ${file}: ${err.message}`),
      );
      await this.writes;
    }
  }
}

/** The last N samples (see BoundedLog), validated with isSample on load. */
export class SampleHistory extends BoundedLog<Sample> {
  constructor(capacity = DEFAULT_HISTORY_SIZE, opts: { file?: string; logger?: Logger } = {}) {
    super(capacity, { ...opts, what: 'history', isValid: isSample });
  }
}
