export { Agent, type AgentEvent, type AgentOptions } from './agent';
export { AgentCleanups, type AgentCleanupsOptions, type CleanupJournal } from './cleanups';
export { AgentMetrics, type AgentMetricsOptions, type CleanupTrigger } from './metrics';
export { negotiateExposition, EXPOSITION_CONTENT_TYPE, type ExpositionFormat } from './exposition';
export {
  readAgentPresence,
  claimAgent,
  agentLockDir,
  agentLockName,
  agentFile,
  metricsUrl,
  AgentAlreadyRunningError,
  type AgentInfo,
  type AgentPresence,
} from './presence';
export {
  validateAgentSettings,
  parseListenAddress,
  DEFAULT_AGENT_SETTINGS,
  DEFAULT_SCHEDULED_CLEANUP_MS,
  DEFAULT_ORPHAN_SCAN_MS,
  DEFAULT_METRICS_PORT,
  type AgentSettings,
  type ListenAddress,
} from './settings';
