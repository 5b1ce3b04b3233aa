/**
 * Bounded reads of compose files and the files they name (`extends.file`, `.env`): regular files
 * only, opened without blocking and capped in size, so a FIFO, a link to /dev/zero or a huge file
 * is refused with a reason instead of hanging or filling memory.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { errorMessage } from '../../shared/errors';

/** Far above any real compose file (the largest generated benchmark file is 5 MB). */
export const MAX_COMPOSE_BYTES = 16 * 1024 * 1024;

export type ReadResult = { text: string } | { error: string; missing?: true };

/** Reads a compose-related file; never blocks on a special file, never reads more than maxBytes + 1. */
export function readComposeFile(path: string, maxBytes = MAX_COMPOSE_BYTES): ReadResult {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO with no writer would otherwise wait forever (ignored for regular files).
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { error: 'no such file', missing: true };
    return { error: errorMessage(err) };
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile())
      return {
        error: `not a regular file (${st.isFIFO() ? 'a FIFO' : st.isCharacterDevice() ? 'a device' : st.isDirectory() ? 'a directory' : 'a special file'})`,
      };
    if (st.size > maxBytes)
      return { error: `${st.size} bytes: larger than the ${maxBytes}-byte cap for a compose file` };
    // Read what is there, up to the cap plus one byte: a file growing meanwhile is still bounded.
    const buf = Buffer.alloc(Math.min(maxBytes + 1, Math.max(st.size, 64 * 1024)));
    let len = 0;
    for (;;) {
      if (len === buf.length) break;
      const n = readSync(fd, buf, len, buf.length - len, null);
      if (n === 0) break;
      len += n;
    }
    if (len > maxBytes) return { error: `larger than the ${maxBytes}-byte cap for a compose file` };
    return { text: buf.subarray(0, len).toString('utf8') };
  } catch (err) {
    return { error: errorMessage(err) };
  } finally {
    closeSync(fd);
  }
}

/** The text, or undefined for a missing or refused file: the shape `extends` loaders want. */
export function readComposeText(path: string, maxBytes = MAX_COMPOSE_BYTES): string | undefined {
  const r = readComposeFile(path, maxBytes);
  return 'text' in r ? r.text : undefined;
}
