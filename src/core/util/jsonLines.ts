import { openRegularFile } from './fs';

/** Default bound of one read: far above any history or run file this project writes. */
export const DEFAULT_JSON_LINES_MAX_BYTES = 64 * 1024 * 1024;

export interface JsonLinesOptions {
  /** Read at most this many bytes, from the end: the newest records are the ones worth keeping. */
  maxBytes?: number;
  /**
   * Leave an unterminated last line alone (a reader racing the writer's append). Otherwise it is
   * parsed like the others and, when it does not parse, counted as skipped.
   */
  dropPartialTail?: boolean;
}

export interface JsonLines<T> {
  /** The records that parsed and passed the guard, in file order. */
  records: T[];
  /** Lines that did not parse or failed the guard (blank lines are not counted). */
  skipped: number;
  /** The file did not end with a newline: the next append must not be glued onto its last line. */
  tornTail: boolean;
  /** The file was larger than maxBytes: only its newest whole lines were read. */
  truncated: boolean;
}

/**
 * Reads a JSON Lines file that others may write to: through openRegularFile (no symlink, no
 * FIFO, no device), bounded by maxBytes, each line parsed on its own so damage costs only
 * that line. Undefined when the file does not exist; other read errors propagate.
 */
export async function readJsonLines<T>(
  file: string,
  guard: (x: unknown) => x is T,
  opts: JsonLinesOptions = {},
): Promise<JsonLines<T> | undefined> {
  const maxBytes = opts.maxBytes ?? DEFAULT_JSON_LINES_MAX_BYTES;
  const opened = await openRegularFile(file);
  if (!opened) return undefined;
  let text: string;
  let truncated: boolean;
  try {
    // The size may change under us (an append): read what was there at stat time, bounded. A
    // bounded read takes one byte more, the one before it, to tell where its first line starts.
    truncated = opened.size > maxBytes;
    const length = truncated ? maxBytes + 1 : opened.size;
    const buf = Buffer.alloc(length);
    const { bytesRead } = await opened.handle.read(buf, 0, length, opened.size - length);
    text = buf.subarray(0, bytesRead).toString('utf8');
  } finally {
    await opened.handle.close();
  }
  // A read from the middle of the file starts inside a line: that fragment is not a record.
  if (truncated) {
    const nl = text.indexOf('\n');
    text = nl < 0 ? '' : text.slice(nl + 1);
  }
  const lines = text.split('\n');
  const tornTail = text.length > 0 && !text.endsWith('\n');
  if (tornTail && opts.dropPartialTail === true) lines.pop();
  const records: T[] = [];
  let skipped = 0;
  for (const line of lines) {
    if (!line.trim()) continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      skipped++;
      continue;
    }
    if (guard(value)) records.push(value);
    else skipped++;
  }
  return { records, skipped, tornTail, truncated };
}
