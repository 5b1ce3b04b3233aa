// The automatic (on a level) and scheduled cleanups the settings ask for: only in a trusted
// workspace (they remove things), rebuilt whenever the settings, the client or trust change.
import type { AutoCleanup, ScheduledCleanup } from '../core/cleanup';
import type { DockerClient } from '../core/docker/client';
import type { LockManager } from '../core/lock';
import type { Logger } from '../core/log';
import type { SharedMonitor } from '../core/monitor';
import type { Sample } from '../core/monitor/types';
import { loadCleanup } from './lazy';
import type { DashboardModel } from './model';
import { cleanupOptions, reportView } from './serviceOptions';
import type { ExtensionConfig } from './settings';

export interface CleanupTargets {
  client?: DockerClient;
  monitor?: SharedMonitor;
  locks: LockManager;
}

export class BackgroundCleanups {
  private running: (AutoCleanup | ScheduledCleanup)[] = [];
  /** Bumped on every restart and on dispose, so a restart still loading the module gives up. */
  private generation = 0;

  constructor(
    private readonly model: DashboardModel,
    private readonly logger: Logger,
    private readonly trusted: () => boolean,
  ) {}

  async restart(c: ExtensionConfig, t: CleanupTargets): Promise<void> {
    this.stop();
    const generation = ++this.generation;
    const { client, monitor } = t;
    if (!client || !this.trusted() || (!c.autoCleanup.enabled && c.scheduledCleanup.everyMs === 0)) return;
    const { AutoCleanup, ScheduledCleanup } = await loadCleanup();
    if (generation !== this.generation) return;
    const common = {
      cleanup: cleanupOptions(c),
      lock: { manager: t.locks, timeoutMs: 5_000 },
      logger: this.logger,
    };
    if (c.autoCleanup.enabled && monitor) {
      // Only the leading window reacts to levels: every window sees the same samples.
      const leaderSamples = {
        onSample: (cb: (s: Sample) => void) =>
          // SharedMonitor rates every sample by this window's settings: a leader's as it takes them
          monitor.onSample((s) => monitor.role === 'leader' && cb(s)),
      };
      this.running.push(
        new AutoCleanup(leaderSamples, client, {
          ...common,
          level: c.autoCleanup.level,
          cooldownMs: c.autoCleanup.cooldownMs,
          onReport: (r) => this.model.setCleanup(reportView(r, `automatic at ${c.autoCleanup.level}`)),
        }),
      );
    }
    if (c.scheduledCleanup.everyMs > 0) {
      this.running.push(
        new ScheduledCleanup(client, {
          ...common,
          everyMs: c.scheduledCleanup.everyMs,
          onReport: (r) => this.model.setCleanup(reportView(r, 'scheduled')),
        }),
      );
    }
  }

  private stop(): void {
    for (const b of this.running) b.dispose();
    this.running = [];
  }

  dispose(): void {
    this.generation++;
    this.stop();
  }
}
