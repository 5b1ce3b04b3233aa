import type { DockerClient } from '../docker/client';
import type { Level } from '../levels';
import { levelIndex } from '../levels';
import type { Logger } from '../log';
import { silentLogger } from '../log';
import type { Sample, Unsubscribe } from '../monitor/types';
import { formatBytes, formatDuration } from '../util/duration';
import type { RunCleanupOptions } from './run';
import { runCleanup } from './run';
import type { CleanupOptions, CleanupReport } from './types';

/** Default pause after an automatic pass before the next may start. */
export const DEFAULT_AUTO_COOLDOWN_MS = 10 * 60_000;
/** An automatic pass waits this long for a cleanup another process runs, then lets that one do the job. */
const BACKGROUND_LOCK_TIMEOUT_MS = 5_000;

/**
 * When to run an automatic pass, as a pure state machine: once each time the level rises to
 * the trigger level (or is there on the first sample), never while a pass runs, and not within
 * the cooldown after the previous pass ended. A rise during the cooldown is remembered and
 * acted on once the cooldown is over, if the level is still that high.
 */
export class LevelTrigger {
  private above = false;
  private armed = false;
  private running = false;
  private lastEndMs: number | undefined;

  constructor(
    readonly level: Level,
    readonly cooldownMs: number,
  ) {
    if (!Number.isFinite(cooldownMs) || cooldownMs < 0)
      throw new Error(`cooldownMs must be a number of milliseconds >= 0 (got ${cooldownMs})`);
  }

  /** Feeds one sample's level; true when a pass should start now (the caller then calls `finished`). */
  observe(level: Level, nowMs: number): boolean {
    const above = levelIndex(level) >= levelIndex(this.level);
    if (above && !this.above) this.armed = true;
    this.above = above;
    if (!this.armed || !above || this.running) return false;
    if (this.lastEndMs !== undefined && nowMs - this.lastEndMs < this.cooldownMs) return false;
    this.armed = false;
    this.running = true;
    return true;
  }

  finished(nowMs: number): void {
    this.running = false;
    this.lastEndMs = nowMs;
  }
}

interface BackgroundOptions {
  cleanup?: CleanupOptions;
  /** Lock settings for runCleanup; by default a short wait, since a concurrent pass does the same job. */
  lock?: RunCleanupOptions['lock'];
  onReport?(report: CleanupReport): void;
  onError?(err: unknown): void;
  logger?: Logger;
}

export interface AutoCleanupOptions extends BackgroundOptions {
  /** The level that triggers a pass. Default CRITICAL. */
  level?: Level;
  /** Default 10 minutes. */
  cooldownMs?: number;
}

export interface ScheduledCleanupOptions extends BackgroundOptions {
  /** Interval between passes, from the end of one to the start of the next. */
  everyMs: number;
}

/** One background pass of orphans, logged, reported, never throwing. */
async function backgroundPass(
  client: DockerClient,
  what: string,
  opts: BackgroundOptions,
  isDisposed: () => boolean,
): Promise<void> {
  const logger = opts.logger ?? silentLogger;
  try {
    const report = await runCleanup(client, {
      ...opts.cleanup,
      logger,
      lock: opts.lock ?? { timeoutMs: BACKGROUND_LOCK_TIMEOUT_MS },
    });
    logger.info(`${what}: ${summarize(report)}`);
    if (!isDisposed()) opts.onReport?.(report);
  } catch (err) {
    logger.warn(`${what} did not run: ${(err as Error)?.message ?? String(err)}`);
    if (!isDisposed()) opts.onError?.(err);
  }
}

export function summarize(r: CleanupReport): string {
  const bytes = r.bytesReclaimed !== undefined ? `, ${formatBytes(r.bytesReclaimed)} reclaimed` : '';
  return `removed ${r.removed.length}, kept ${r.kept.length}, failed ${r.failed.length}${bytes} in ${formatDuration(r.durationMs)}`;
}

/**
 * Runs a cleanup pass of orphans when the monitor's level rises to `level` (default CRITICAL),
 * once per rise, with a cooldown between passes.
 */
export class AutoCleanup {
  private readonly trigger: LevelTrigger;
  private readonly unsubscribe: Unsubscribe;
  private disposed = false;

  constructor(
    source: { onSample(cb: (s: Sample) => void): Unsubscribe },
    private readonly client: DockerClient,
    private readonly opts: AutoCleanupOptions = {},
  ) {
    this.trigger = new LevelTrigger(opts.level ?? 'CRITICAL', opts.cooldownMs ?? DEFAULT_AUTO_COOLDOWN_MS);
    this.unsubscribe = source.onSample((s) => this.onSample(s));
  }

  private onSample(s: Sample): void {
    if (this.disposed || !this.trigger.observe(s.level, Date.now())) return;
    (this.opts.logger ?? silentLogger).info(`level ${s.level} reached on ${s.endpoint}: cleaning up orphans`);
    void backgroundPass(this.client, 'automatic cleanup', this.opts, () => this.disposed).finally(() =>
      this.trigger.finished(Date.now()),
    );
  }

  dispose(): void {
    this.disposed = true;
    this.unsubscribe();
  }
}

/** Runs a cleanup pass of orphans every `everyMs`; never two at once. */
export class ScheduledCleanup {
  private timer: NodeJS.Timeout | undefined;
  private disposed = false;

  constructor(
    private readonly client: DockerClient,
    private readonly opts: ScheduledCleanupOptions,
  ) {
    if (!Number.isFinite(opts.everyMs) || opts.everyMs < 1)
      throw new Error(`everyMs must be a positive number of milliseconds (got ${opts.everyMs})`);
    this.schedule();
  }

  private schedule(): void {
    if (this.disposed) return;
    this.timer = setTimeout(() => {
      void backgroundPass(this.client, 'scheduled cleanup', this.opts, () => this.disposed).finally(() =>
        this.schedule(),
      );
    }, this.opts.everyMs);
    // A schedule alone must not keep a CLI process alive.
    this.timer.unref();
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.timer);
  }
}
