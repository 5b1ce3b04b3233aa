import { randomBytes } from 'node:crypto';
import { constants as fsConstants, promises as fsp } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { isTransientRenameError } from './platform';

/** Whether a folder entry is (named like) a temporary sibling of `writeFileAtomic`: never a file's content. */
export function isAtomicTempName(name: string): boolean {
  return /^\..+\.tmp$/.test(name);
}

/**
 * Writes a file so that readers see the old content or the new, never a torn one: write a
 * temporary sibling, flush it, then rename over the target (rename is atomic on one volume).
 * `durable: false` skips the flush, for files that are worthless after a crash of the machine
 * (a lock queue's tickets: their waiters are gone with it); readers still never see a torn file.
 */
export async function writeFileAtomic(
  file: string,
  data: string | Uint8Array,
  opts: { durable?: boolean } = {},
): Promise<void> {
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  // 'wx': never write through something planted at the temp name.
  const handle = await fsp.open(tmp, 'wx', 0o644);
  try {
    await handle.writeFile(data);
    if (opts.durable !== false) await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await renameWithRetry(tmp, file);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
}

/** Windows refuses a rename while another process has the target open: retry briefly. */
async function renameWithRetry(from: string, to: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await fsp.rename(from, to);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (!isTransientRenameError(code, attempt)) throw err;
      await new Promise((r) => setTimeout(r, 20 * (attempt + 1)));
    }
  }
}

/** Reads a file, or undefined when it does not exist. Other errors propagate. */
export async function readFileIfExists(file: string): Promise<string | undefined> {
  try {
    return await fsp.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

const O_NOFOLLOW = fsConstants.O_NOFOLLOW ?? 0;
const O_NONBLOCK = fsConstants.O_NONBLOCK ?? 0;

/**
 * Opens a file that others may have planted or replaced (a shared lock folder, a state file):
 * never follows a symlink, never blocks on a FIFO or device, refuses anything but a regular
 * file. Undefined when it does not exist; the caller closes the handle.
 */
export async function openRegularFile(
  file: string,
): Promise<{ handle: fsp.FileHandle; size: number } | undefined> {
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(file, fsConstants.O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') throw Object.assign(new Error('a symbolic link, not a regular file'), { code });
    throw err;
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'EFTYPE' });
    return { handle, size: st.size };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/** Reads a small file as openRegularFile opens it, refusing anything over maxBytes. */
export async function readRegularFile(file: string, maxBytes: number): Promise<string | undefined> {
  const opened = await openRegularFile(file);
  if (!opened) return undefined;
  const { handle, size } = opened;
  try {
    if (size > maxBytes) throw Object.assign(new Error(`larger than ${maxBytes} bytes`), { code: 'EFBIG' });
    // Room for what fstat said plus one byte, to see a file that grew since; only then the cap.
    for (const room of size < maxBytes ? [size + 1, maxBytes + 1] : [maxBytes + 1]) {
      const buf = Buffer.allocUnsafe(room);
      const { bytesRead } = await handle.read(buf, 0, room, 0);
      if (bytesRead < room) return buf.subarray(0, bytesRead).toString('utf8');
    }
    throw Object.assign(new Error(`larger than ${maxBytes} bytes`), { code: 'EFBIG' });
  } finally {
    await handle.close();
  }
}

/** Appends to a regular file (created if missing), refusing a symlink or anything else planted at the path. */
export async function appendRegularFile(file: string, data: string): Promise<void> {
  const handle = await fsp.open(
    file,
    fsConstants.O_WRONLY | fsConstants.O_APPEND | fsConstants.O_CREAT | O_NOFOLLOW | O_NONBLOCK,
    0o644,
  );
  try {
    if (!(await handle.stat()).isFile())
      throw Object.assign(new Error(`${file} is not a regular file`), { code: 'EFTYPE' });
    await handle.appendFile(data);
  } finally {
    await handle.close();
  }
}
