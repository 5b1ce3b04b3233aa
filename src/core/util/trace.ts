import { appendFileSync } from 'node:fs';

/**
 * Phase timestamps for benchmarks: with `DOCKER_STABILITY_TRACE=<file>` set, each mark appends
 * one JSON line (`pid`, `phase`, `t` in epoch ms, and any details) to that file. A few
 * microseconds when unset; never throws.
 */
export function traceMark(phase: string, details: Record<string, unknown> = {}): void {
  const file = process.env.DOCKER_STABILITY_TRACE;
  if (!file) return;
  try {
    const t = performance.timeOrigin + performance.now();
    appendFileSync(
      file,
      JSON.stringify({ pid: process.pid, phase, t: Math.round(t * 10) / 10, ...details }) + '\n',
    );
  } catch {
    // a trace is never worth failing a run
  }
}
