import { createHash } from 'node:crypto';
import type { DockerClient } from '../docker/client';
import { LockManager, type LockMode } from '../lock';
import type { ExecuteOptions } from './execute';
import { executeCleanup } from './execute';
import { planCleanup } from './plan';
import type { CleanupOptions, CleanupPlan, CleanupReport } from './types';

export interface RunCleanupOptions extends CleanupOptions, Omit<ExecuteOptions, 'logger'> {
  /** Plan only: the report's `removed` lists what would be removed, and nothing is touched. */
  dryRun?: boolean;
  /**
   * The cross-process cleanup lock (one cleanup per daemon at a time). `manager` defaults to a
   * LockManager on the default lock folder; `timeoutMs` (default 60 s) bounds the wait for a
   * cleanup another process runs. A dry run takes no lock: it changes nothing. `mode: 'shared'`
   * is for a pass that touches only its own run's resources: many such passes (parallel runs
   * ending together) go at once, never beside a daemon-wide pass.
   */
  lock?: { manager?: LockManager; timeoutMs?: number; mode?: LockMode };
  /** Called with the plan before anything is removed (the CLI prints it). */
  onPlan?(plan: CleanupPlan): void;
}

export const DEFAULT_CLEANUP_LOCK_TIMEOUT_MS = 60_000;

/**
 * The lock that serialises cleanups of one daemon: `cleanup-<12 hex of its DaemonIdentity.id>`,
 * so two addresses of one daemon share it and a new daemon behind an old address does not.
 */
export function cleanupLockName(daemonId: string): string {
  return `cleanup-${createHash('sha256').update(daemonId).digest('hex').slice(0, 12)}`;
}

/**
 * Plans and executes a cleanup pass under the daemon's cleanup lock, so two processes never
 * clean the same daemon at once (each would plan against resources the other is removing).
 */
export async function runCleanup(client: DockerClient, opts: RunCleanupOptions = {}): Promise<CleanupReport> {
  // The pass begins when it is asked for, not when the lock is granted: whatever is created
  // while waiting for another cleanup to finish belongs to someone who is still working.
  const startedAt = new Date();
  if (opts.dryRun) {
    const started = performance.now();
    const plan = await planCleanup(client, opts, startedAt);
    opts.onPlan?.(plan);
    return {
      daemon: plan.daemon,
      removed: plan.remove,
      kept: plan.keep,
      failed: [],
      durationMs: Math.round(performance.now() - started),
    };
  }
  const manager = opts.lock?.manager ?? new LockManager();
  const timeoutMs = opts.lock?.timeoutMs ?? DEFAULT_CLEANUP_LOCK_TIMEOUT_MS;
  const daemon = await client.identity();
  return manager.withLock(
    cleanupLockName(daemon.id),
    `docker-stability cleanup of ${client.endpoint.host} (daemon ${daemon.id})`,
    async () => {
      const plan = await planCleanup(client, opts, startedAt);
      // The lock holds for the daemon it names: another one behind the same address since is not covered by it.
      if (plan.daemon.id !== daemon.id)
        throw new Error(
          `the daemon at ${client.endpoint.host} changed during the cleanup (${daemon.id}, now ${plan.daemon.id}): nothing removed`,
        );
      opts.onPlan?.(plan);
      return executeCleanup(client, plan, {
        concurrency: opts.concurrency,
        measureBytes: opts.measureBytes,
        logger: opts.logger,
      });
    },
    {
      timeoutMs,
      mode: opts.lock?.mode,
      // Losing the lock mid-pass (a forced release, a long stall) is not a reason to stop: every
      // removal re-checks its resource and NotFound counts as done, so two passes stay safe.
      onCompromised: (err) => opts.logger?.warn(`cleanup lock lost during the pass: ${err.message}`),
    },
  );
}
