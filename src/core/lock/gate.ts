import { promises as fsp } from 'node:fs';

/** Returned when another process holds the gate. */
export const GATE_BUSY = Symbol('gate busy');

/**
 * A gate is held for a few file operations only; one older than this was left by a process
 * that died inside it, and is removed so reclaiming never stalls for good.
 */
const GATE_STALE_MS = 5_000;

/**
 * Runs fn while holding a mkdir-based gate, or returns GATE_BUSY when someone else holds it.
 * Reclaiming a stale lock is check-then-remove; doing both under the gate means two reclaimers
 * cannot both remove "the stale lock" when the second one's removal would hit the first one's
 * fresh lock (proper-lockfile #121).
 */
export async function withGate<T>(gate: string, fn: () => Promise<T>): Promise<T | typeof GATE_BUSY> {
  try {
    await fsp.mkdir(gate);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const st = await fsp.stat(gate).catch(() => undefined);
    if (st && Date.now() - st.mtimeMs > GATE_STALE_MS) await fsp.rm(gate, { recursive: true, force: true });
    return GATE_BUSY;
  }
  try {
    return await fn();
  } finally {
    await fsp.rm(gate, { recursive: true, force: true });
  }
}
