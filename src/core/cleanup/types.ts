import type { DaemonIdentity } from '../docker/client';
import type { Logger } from '../log';

export type ResourceType = 'container' | 'network' | 'volume' | 'image';

export interface CleanupOptions {
  /**
   * Minimum age (ms) of anything removed, measured from its creation. Default 10 minutes: a
   * test run that is still setting up (a compose project whose network exists but whose
   * containers do not yet) must never lose its resources. The CLI's `--older-than`.
   */
  olderThanMs?: number;
  /** Also remove dangling images built by test runs. Default false. */
  includeImages?: boolean;
  /** Compose project name globs (`*`, `?`) that mark test projects. Default `['*-test', '*_test']`. */
  testProjectPatterns?: string[];
  /** Resources carrying `<protectLabel>=true` are never removed. Default `docker-stability.protect`. */
  protectLabel?: string;
  /** Label equalities every candidate must carry: resources without them are not considered at all. */
  scope?: Record<string, string>;
  /** Only resources of this run (label `docker-stability.run-id=<runId>`). */
  runId?: string;
  /**
   * Runs known to have ended (beside those whose record in `runsFile` says so): their running
   * containers are orphans. A run passes its own id when it cleans up after itself.
   */
  endedRuns?: string[];
  /** Run records read to tell whether a run's process is gone. Default: the state folder's runs.jsonl. */
  runsFile?: string;
  logger?: Logger;
}

/** Options as resolved for a plan: defaults applied, dates as ISO strings, serialisable. */
export interface ResolvedCleanupOptions {
  olderThanMs: number;
  includeImages: boolean;
  testProjectPatterns: string[];
  protectLabel: string;
  scope: Record<string, string>;
  runId?: string;
  endedRuns: string[];
  runsFile?: string;
}

export interface PlanEntry {
  type: ResourceType;
  /** Container/network/image id; the name for volumes (volumes have no other id). */
  id: string;
  name: string;
  reason: string;
  /** Bytes reclaimed (report) or occupied (plan, images only) where known. */
  bytes?: number;
  /** Creation time as the daemon reported it; execute uses it to notice a recreated volume. */
  createdAt?: string;
  /** A running container whose owner is provably gone: execute stops it before removing it. */
  stopFirst?: true;
}

export interface CleanupPlan {
  /** When the pass began: nothing created at or after this instant is removed. */
  createdAt: string;
  endpoint: string;
  /** The daemon planned on, by its own ID: what the cleanup lock is keyed on. */
  daemon: DaemonIdentity;
  remove: PlanEntry[];
  keep: PlanEntry[];
  options: ResolvedCleanupOptions;
}

export interface CleanupReport {
  /** The daemon cleaned (the plan's). */
  daemon: DaemonIdentity;
  removed: PlanEntry[];
  kept: PlanEntry[];
  failed: PlanEntry[];
  /** Sum of the known sizes of what was removed (containers' writable layers, images). */
  bytesReclaimed?: number;
  durationMs: number;
}

export const DEFAULT_OLDER_THAN_MS = 10 * 60_000;
export const DEFAULT_TEST_PROJECT_PATTERNS: readonly string[] = ['*-test', '*_test'];
export const DEFAULT_CONCURRENCY = 4;
