import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { resolveOptions, type CleanupOptions } from '../../core/cleanup';
import {
  Agent,
  AgentAlreadyRunningError,
  parseListenAddress,
  readAgentPresence,
  validateAgentSettings,
  type AgentEvent,
} from '../../core/agent';
import { parseLevel } from '../../core/levels';
import { LockManager } from '../../core/lock';
import type { Logger } from '../../core/log';
import { defaultLockDir } from '../../core/paths';
import { formatDuration } from '../../core/util/duration';
import { cleanupSettingsFrom, monitorSettingsFrom } from '../config';
import {
  CliError,
  createClient,
  dockerOptions,
  ExitCode,
  parse,
  parseDurationOption,
  parseNumber,
  printJson,
  type Command,
} from '../util';
import { parseCommand } from '../options';
import { parseLabels } from './cleanup';
import { errorMessage } from '../../shared/errors';

const VERSION = '0.1.0';

const usage = `docker-stability agent [--config F] [--interval S] [--metrics [HOST:]PORT]
       [--no-auto-cleanup] [--auto-cleanup-level CRITICAL] [--auto-cleanup-cooldown 10m]
       [--cleanup-every 30m] [--no-scheduled-cleanup] [--orphan-scan-every 60s]
       [--older-than 10m] [--label k=v ...] [--test-project GLOB ...] [--protect-label NAME]
       [--lock-dir D] [--json] [--verbose] [--host H]
       docker-stability agent status [--json] [--host H]
       docker-stability agent --print-systemd-unit

Runs headless on a host: samples the daemon into the shared history (windows and terminals on
this host follow it), cleans up orphans when the level reaches CRITICAL (cooldown 10m) and
every 30 minutes, and with --metrics serves Prometheus metrics at http://HOST:PORT/metrics (a
bare port binds to 127.0.0.1). The "agent" section of --config sets autoCleanup {enabled,
level, cooldownMs}, scheduledCleanupMs, orphanScanMs and metrics; the "cleanup" section what
passes may remove; flags win. One line per event on stdout (JSON with --json). SIGTERM waits
for a cleanup pass in flight, flushes the history and exits 0. A daemon that is down is waited
for with back-off, not an error. Exit codes: 0 stopped by a signal, 1 another agent runs for this
endpoint, 64 usage. \`agent status\` exits 0 when an agent runs for the endpoint, 1 when none does.`;

function describe(e: AgentEvent): string {
  switch (e.event) {
    case 'started':
      return `agent started for ${e.endpoint} (pid ${e.pid})${e.metricsUrl ? `, metrics at ${e.metricsUrl}` : ''}`;
    case 'role':
      return e.role === 'leader' ? 'sampling the daemon' : 'following the sampler of another process';
    case 'daemon-up':
      return `Docker answers at ${e.endpoint}`;
    case 'daemon-down':
      return `Docker is not reachable at ${e.endpoint}: ${e.reason} (retrying in ${formatDuration(e.retryInMs)})`;
    case 'cleanup-started':
      return `${e.trigger} cleanup started${e.level ? ` (level ${e.level})` : ''}`;
    case 'cleanup-done':
      return `${e.trigger} cleanup: removed ${e.removed}, kept ${e.kept}, failed ${e.failed} in ${formatDuration(e.durationMs)}`;
    case 'cleanup-error':
      return `${e.trigger} cleanup did not run: ${e.message}`;
    case 'cleanup-interrupted':
      return `a ${e.trigger} cleanup started at ${e.startedAt} (pid ${e.pid}) did not finish: completing it now`;
    case 'orphans':
      return `${e.count} orphan(s) a cleanup would remove`;
    case 'stopping':
      return `stopping (${e.reason})`;
    case 'stopped':
      return 'agent stopped';
  }
}

/** One line per event: a timestamped sentence, or a JSON object with `time` and the event's fields. */
function lineWriter(json: boolean): { event(e: AgentEvent): void; logger: (verbose: boolean) => Logger } {
  const write = (fields: Record<string, unknown>, text: string): void => {
    const time = new Date().toISOString();
    process.stdout.write(json ? JSON.stringify({ time, ...fields }) + '\n' : `${time} ${text}\n`);
  };
  return {
    event: (e) => write(e, describe(e)),
    logger: (verbose) => {
      const log = (level: string) => (message: string) =>
        write({ event: 'log', level, message }, `[${level}] ${message}`);
      return {
        debug: verbose ? log('debug') : () => undefined,
        info: verbose ? log('info') : () => undefined,
        warn: log('warn'),
        error: log('error'),
      };
    },
  };
}

async function statusCommand(argv: string[]): Promise<number> {
  const statusUsage = 'docker-stability agent status [--json] [--host H]';
  const { values } = parse(argv, { options: { ...dockerOptions, json: { type: 'boolean' } } }, statusUsage);
  const client = createClient(values);
  const p = await readAgentPresence(client.endpoint.host);
  if (values.json) printJson(p);
  else if (p.running) {
    process.stdout.write(
      `an agent runs for ${p.endpoint} since ${p.since} (pid ${p.pid} on ${p.host})${p.metricsUrl ? `, metrics at ${p.metricsUrl}` : ''}\n`,
    );
  } else {
    process.stdout.write(
      `no agent runs for ${p.endpoint}${p.staleReason ? ` (the last one is gone: ${p.staleReason})` : ''}\n`,
    );
  }
  return p.running ? ExitCode.ok : ExitCode.failure;
}

/** The unit shipped in contrib/ (the npm package has it next to dist/, where this bundle runs). */
function printUnit(): number {
  const file = join(__dirname, '..', 'contrib', 'systemd', 'docker-stability-agent@.service');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read the shipped unit ${file}: ${errorMessage(err)}`);
  }
  process.stdout.write(text);
  return ExitCode.ok;
}

export const agentCommand: Command = {
  name: 'agent',
  summary:
    'Run headless on a host: shared sampling, automatic and scheduled cleanup, Prometheus metrics (`agent status`: is one running).',
  usage,
  async run(argv) {
    if (argv[0] === 'status') return statusCommand(argv.slice(1));
    if (argv[0] === '--print-systemd-unit') return printUnit();
    const { values, config } = parseCommand(argv, usage, {
      interval: { type: 'string' },
      metrics: { type: 'string' },
      'no-auto-cleanup': { type: 'boolean' },
      'auto-cleanup-level': { type: 'string' },
      'auto-cleanup-cooldown': { type: 'string' },
      'cleanup-every': { type: 'string' },
      'no-scheduled-cleanup': { type: 'boolean' },
      'orphan-scan-every': { type: 'string' },
      'older-than': { type: 'string' },
      label: { type: 'string', multiple: true },
      'test-project': { type: 'string', multiple: true },
      'protect-label': { type: 'string' },
      'lock-dir': { type: 'string' },
      verbose: { type: 'boolean' },
    });
    const { settings, problems } = validateAgentSettings(config.agent);
    if (problems.length) throw new CliError(`config agent.${problems.join('; agent.')}`, ExitCode.usage);
    try {
      if (values.metrics !== undefined) settings.metrics = parseListenAddress(values.metrics);
      if (values['auto-cleanup-level'] !== undefined)
        settings.autoCleanup.level = parseLevel(values['auto-cleanup-level']);
    } catch (err) {
      throw new CliError(errorMessage(err), ExitCode.usage);
    }
    if (values['no-auto-cleanup']) settings.autoCleanup.enabled = false;
    settings.autoCleanup.cooldownMs =
      parseDurationOption(values['auto-cleanup-cooldown'], 'auto-cleanup-cooldown') ??
      settings.autoCleanup.cooldownMs;
    const every = parseDurationOption(values['cleanup-every'], 'cleanup-every');
    if (every !== undefined && every < 1000)
      throw new CliError(
        '--cleanup-every must be at least 1s (use --no-scheduled-cleanup to turn it off)',
        ExitCode.usage,
      );
    settings.scheduledCleanupMs = values['no-scheduled-cleanup'] ? 0 : (every ?? settings.scheduledCleanupMs);
    const scan = parseDurationOption(values['orphan-scan-every'], 'orphan-scan-every');
    if (scan !== undefined && scan < 1000)
      throw new CliError('--orphan-scan-every must be at least 1s', ExitCode.usage);
    settings.orphanScanMs = scan ?? settings.orphanScanMs;

    const monitor = monitorSettingsFrom(config);
    const interval = parseNumber(values.interval, 'interval', 0.25, 3600);
    if (interval !== undefined) monitor.intervalMs = interval * 1000;
    const fromConfig = cleanupSettingsFrom(config.cleanup, 'cleanup');
    const cleanup: CleanupOptions = {
      olderThanMs: parseDurationOption(values['older-than'], 'older-than') ?? fromConfig.olderThanMs,
      includeImages: fromConfig.includeImages,
      scope: parseLabels(values.label),
      testProjectPatterns: values['test-project'] ?? fromConfig.testProjectPatterns,
      protectLabel: values['protect-label'] ?? fromConfig.protectLabel,
    };
    try {
      resolveOptions(cleanup);
    } catch (err) {
      throw new CliError(errorMessage(err), ExitCode.usage);
    }

    // A service that runs for months trades V8's optimizing compiler for memory: without it the
    // agent stays about 4 MB of RSS lower (what TurboFan's code and zones keep touched), and its
    // CPU at a 2 s interval did not rise (bench/agent, BENCHMARKS.md). Set before the first
    // sample, so the hot paths are never optimized; everything else keeps running as before.
    setFlagsFromString('--no-turbofan');
    const out = lineWriter(values.json ?? false);
    const logger = out.logger(values.verbose ?? false);
    const client = createClient(values);
    const agent = new Agent(client, {
      settings,
      monitor,
      cleanup,
      version: VERSION,
      locks: new LockManager({ dir: values['lock-dir'] ?? defaultLockDir(), logger }),
      logger,
      onEvent: out.event,
    });
    try {
      await agent.start();
    } catch (err) {
      if (err instanceof AgentAlreadyRunningError) throw new CliError(err.message, ExitCode.failure);
      throw err;
    }
    return new Promise<number>((resolve) => {
      // Signals can arrive twice (the cleanup lock's own handler raises the signal again once it
      // has released): stop() is idempotent, and the exit waits for the pass in flight.
      const onSignal = (signal: NodeJS.Signals): void => {
        void agent.stop(signal).then(() => {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          resolve(ExitCode.ok);
        });
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    });
  },
};
