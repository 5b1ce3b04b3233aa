import { promises as fsp } from 'node:fs';
import { LevelTrigger, runCleanup, type CleanupOptions, type CleanupReport } from '../cleanup';
import type { DockerClient } from '../docker/client';
import type { Level } from '../levels';
import type { LockManager } from '../lock';
import type { Logger } from '../log';
import { readFileIfExists } from '../util/fs';
import type { CleanupTrigger } from './metrics';
import { writeFileAtomicMkdir } from './presence';
import type { AgentSettings } from './settings';

/** What the journal of a pass in progress holds. */
export interface CleanupJournal {
  trigger: CleanupTrigger;
  startedAt: string;
  pid: number;
}

export interface AgentCleanupsOptions {
  settings: AgentSettings;
  cleanup: CleanupOptions;
  /** The cross-process cleanup lock (runCleanup's); default its default folder. */
  locks?: LockManager;
  /** A pass in progress is recorded here, so a pass cut short by a crash is noticed at the next start. */
  journalFile: string;
  logger?: Logger;
  onStart?(trigger: CleanupTrigger, level?: Level): void;
  onDone?(trigger: CleanupTrigger, outcome: { report: CleanupReport } | { error: unknown }): void;
  /** A previous agent's pass did not finish (killed mid-pass): reported, then completed now. */
  onInterrupted?(journal: CleanupJournal): void;
}

/** A concurrent pass of another process does the same job: wait for it only briefly. */
const LOCK_WAIT_MS = 5_000;

/**
 * The agent's cleanup passes: automatic when the level reaches the configured one (once per
 * rise, with a cooldown: LevelTrigger), scheduled on an interval, one pass at a time. Unlike
 * the extension's AutoCleanup and ScheduledCleanup it keeps the pass in flight, so a shutdown
 * waits for it instead of leaving it half done, and it journals each pass on disk.
 */
export class AgentCleanups {
  private readonly trigger: LevelTrigger | undefined;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly client: DockerClient,
    private readonly opts: AgentCleanupsOptions,
  ) {
    const a = opts.settings.autoCleanup;
    this.trigger = a.enabled ? new LevelTrigger(a.level, a.cooldownMs) : undefined;
  }

  /** Completes a pass a killed agent left, then starts the schedule. */
  async start(): Promise<void> {
    const journal = await this.readJournal();
    if (journal) {
      this.opts.onInterrupted?.(journal);
      await this.pass('resume');
    }
    this.schedule();
  }

  /** Feeds a sample's level to the automatic trigger. */
  observe(level: Level): void {
    if (this.stopped || !this.trigger?.observe(level, Date.now())) return;
    void this.pass('auto', level).finally(() => this.trigger?.finished(Date.now()));
  }

  get busy(): boolean {
    return this.inFlight !== undefined;
  }

  private schedule(): void {
    const every = this.opts.settings.scheduledCleanupMs;
    if (this.stopped || every === 0) return;
    this.timer = setTimeout(() => void this.pass('scheduled').finally(() => this.schedule()), every);
  }

  /** One pass, never two at once: a trigger while one runs joins it. Never throws. */
  private pass(trigger: CleanupTrigger, level?: Level): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.inFlight ??= this.runPass(trigger, level).finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async runPass(trigger: CleanupTrigger, level?: Level): Promise<void> {
    this.opts.onStart?.(trigger, level);
    const journal: CleanupJournal = { trigger, startedAt: new Date().toISOString(), pid: process.pid };
    try {
      await writeFileAtomicMkdir(this.opts.journalFile, JSON.stringify(journal) + '\n');
      const report = await runCleanup(this.client, {
        ...this.opts.cleanup,
        logger: this.opts.logger,
        lock: { manager: this.opts.locks, timeoutMs: LOCK_WAIT_MS },
      });
      this.opts.onDone?.(trigger, { report });
    } catch (err) {
      this.opts.onDone?.(trigger, { error: err });
    } finally {
      await fsp.rm(this.opts.journalFile, { force: true }).catch(() => undefined);
    }
  }

  private async readJournal(): Promise<CleanupJournal | undefined> {
    try {
      const text = await readFileIfExists(this.opts.journalFile);
      return text ? (JSON.parse(text) as CleanupJournal) : undefined;
    } catch {
      // a torn journal still means a pass was cut short
      return { trigger: 'scheduled', startedAt: 'unknown', pid: 0 };
    }
  }

  /** No new passes; resolves once the pass in flight (if any) has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.inFlight;
  }
}
