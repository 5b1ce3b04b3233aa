/**
 * The library entry (`require('docker-stability')`): the same core the CLI and the VS Code
 * extension use, for test frameworks and scripts. Never imports `vscode`. See docs/library.md.
 *
 * Every export is named here (no `export *`): this list is the public API, and each name in it
 * is a semver promise. api/docker-stability.api.txt records it; `npm run lint` fails when the
 * two differ (scripts/api-report.mjs), so that adding or dropping a name is a visible decision.
 */

// Levels and thresholds
export {
  LEVELS,
  DEFAULT_THRESHOLDS,
  rate,
  worstLevel,
  parseLevel,
  isLevel,
  thresholdsFor,
  type Level,
  type ResourceKind,
  type LevelledKind,
  type Thresholds,
  type ThresholdSettings,
} from './core/levels';
export { Labels } from './core/labels';
export { stateDir, defaultLockDir } from './core/paths';
export { silentLogger, stderrLogger, type Logger } from './core/log';

// The Docker endpoint and client
export {
  resolveEndpoint,
  parseHost,
  type Endpoint,
  type ResolveOptions,
  type TlsMaterial,
} from './core/docker/endpoint';
export {
  startOwnershipProxy,
  ownerLabels,
  type OwnershipProxy,
  type OwnershipProxyOptions,
} from './core/docker/ownershipProxy';
export {
  DockerClient,
  DockerUnreachableError,
  type DaemonIdentity,
  type DaemonInfo,
  type DockerEvent,
  type CallOptions,
  type SystemDf,
} from './core/docker/client';

// The resource monitor
export {
  ResourceMonitor,
  SharedMonitor,
  SampleHistory,
  DEFAULT_MONITOR_SETTINGS,
  validateMonitorSettings,
  readCpuSeed,
  type CpuSeed,
  type MonitorOptions,
  type SharedMonitorOptions,
  type MonitorRole,
  type MonitorSettings,
  type MonitorState,
  type Capacities,
  type Sample,
  type ResourceFigure,
  type ContainerFigure,
  type StatsPath,
  type Unsubscribe,
} from './core/monitor';
export type {
  ContainerUsage,
  DiskBreakdown,
  DiskFigure,
  Owner,
  OwnerKind,
  OwnerUsage,
  StatsBudget,
  UnrotatedLog,
} from './shared/monitor';
export type { Incident } from './core/incidents';
export type { RunCost } from './core/runs/cost';

// The environment lock
export {
  LockManager,
  LockTimeoutError,
  LockDirError,
  InvalidLockNameError,
  validateLockName,
  DEFAULT_LOCK_NAME,
  DEFAULT_STALE_MS,
  MIN_STALE_MS,
  DEFAULT_ACQUIRE_TIMEOUT_MS,
  type LockOptions,
  type AcquireOptions,
  type LockHandle,
  type LockMode,
  type LockStatus,
  type LockHolder,
  type LockTakeover,
  type LockEvent,
  type SharedHolderStatus,
  type QueuedWaiter,
  type HolderSummary,
  type Identity,
} from './core/lock';

// Cleanup
export {
  runCleanup,
  planCleanup,
  executeCleanup,
  summarize,
  AutoCleanup,
  ScheduledCleanup,
  DEFAULT_OLDER_THAN_MS,
  DEFAULT_TEST_PROJECT_PATTERNS,
  type CleanupOptions,
  type RunCleanupOptions,
  type ResolvedCleanupOptions,
  type ExecuteOptions,
  type CleanupPlan,
  type CleanupReport,
  type PlanEntry,
  type ResourceType,
  type AutoCleanupOptions,
  type ScheduledCleanupOptions,
} from './core/cleanup';

// Test runs: the controlled run, its records and prediction, and test-framework hooks
export {
  withTestEnvironment,
  beginTestRun,
  RunRefusedError,
  runCommand,
  RunStore,
  predict,
  predictLevel,
  DEFAULT_PREDICTION,
  createGlobalSetup,
  mochaGlobalFixtures,
  jestGlobalSetup,
  jestGlobalTeardown,
  decideRunMode,
  validateRunModes,
  type RunModeRequest,
  type RunModeDecision,
  type TestEnvironmentOptions,
  type TestEnvironment,
  type ActiveTestRun,
  type RunOutcome,
  type RunReport,
  type CommandOutcome,
  type RunRecord,
  type RunStart,
  type RunState,
  type ResourceAmounts,
  type Prediction,
  type PredictionOptions,
  type PredictedLevel,
  type GlobalSetup,
  type GlobalSetupOptions,
} from './core/runs';

// Compose: the standard, its checks and fixes, apply, and the compose tool
export {
  STANDARD,
  checkCompose,
  RULES,
  applyFix,
  planApply,
  writeApply,
  detectComposeTool,
  validateWithCompose,
  type CheckOptions,
  type Finding,
  type RuleId,
  type Severity,
  type TextEdit,
  type ApplyPlan,
  type ComposeTool,
  type Variant,
} from './core/compose';
