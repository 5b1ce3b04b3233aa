import type { Command } from '../util';

/**
 * Every CLI command, in the order `help` lists them. Each lives in its own file and is loaded
 * only when it runs: a long-running `agent` then never evaluates compose's YAML parser or the
 * lock and run commands (issue 16's RSS target), and a one-shot command starts faster.
 */
export const commands: { name: string; load: () => Promise<Command> }[] = [
  { name: 'status', load: async () => (await import('./status.js')).statusCommand },
  { name: 'watch', load: async () => (await import('./watch.js')).watchCommand },
  { name: 'history', load: async () => (await import('./history.js')).historyCommand },
  { name: 'incidents', load: async () => (await import('./incidents.js')).incidentsCommand },
  { name: 'lock', load: async () => (await import('./lock.js')).lockCommand },
  { name: 'run', load: async () => (await import('./run.js')).runCommandCli },
  { name: 'cleanup', load: async () => (await import('./cleanup.js')).cleanupCommand },
  { name: 'compose', load: async () => (await import('./compose.js')).composeCommand },
  { name: 'doctor', load: async () => (await import('./doctor.js')).doctorCommand },
  { name: 'agent', load: async () => (await import('./agent.js')).agentCommand },
];
