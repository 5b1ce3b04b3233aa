import { LockManager, LockTimeoutError, type LockMode } from '../../core/lock';
import { parseLevel, type Level } from '../../core/levels';
import { stderrLogger } from '../../core/log';
import { validatePredictionOptions, type PredictionOptions } from '../../core/runs/predict';
import { decideRunMode, validateRunModes, type RunModeDecision } from '../../core/runs/modeDecision';
import { RunStore } from '../../core/runs/records';
import { recordedCommand } from '../../core/runs/environment';
import {
  RunRefusedError,
  withTestEnvironment,
  type CommandOutcome,
  type RunReport,
} from '../../core/runs/testRun';
import { formatBytes, formatDuration, parseDuration } from '../../core/util/duration';
import { RUN_CLEANUP_KEYS } from '../../core/options/runs';
import { runInTerminal } from '../child';
import { cleanupSettingsFrom, loadCliConfig, monitorSettingsFrom } from '../config';
import {
  CliError,
  createClient,
  dockerOptions,
  ExitCode,
  messageLine,
  parse,
  printJson,
  type Command,
} from '../util';
import { errorMessage } from '../../shared/errors';

const usage =
  'docker-stability run --category NAME [--env test] [--shared|--exclusive] [--dry-run] [--why TEXT] [--timeout 5m] [--force] [--refuse-at LEVEL] [--no-cleanup] [--record-argv] [--json] [--config F] [--dir LOCKDIR] -- <command> [args...]';

interface RunsConfig {
  refuseAt?: string;
  /** Per category: `shared` or `exclusive` (the default when neither the flag nor this says). */
  modes?: Record<string, unknown>;
  prediction?: unknown;
  /** For the orphan pass before a run that would not fit (checked by cleanupSettingsFrom). */
  cleanup?: unknown;
}

function summaryLine(r: RunReport): string {
  const a = r.record.added;
  const status = r.record.exitCode !== null ? `exit ${r.record.exitCode}` : `signal ${r.record.signal}`;
  const cleanup = r.cleanup
    ? `; cleaned up ${r.cleanup.removed.length} left behind (${r.cleanup.failed.length} failed)`
    : '';
  return (
    `run ${r.runId} (${r.category}, env ${r.env}): ${status} after ${formatDuration(r.record.durationMs)}; ` +
    `peak added memory ${formatBytes(a.memoryBytes)}, cpu ${a.cpuPercent}%, containers ${a.containers}, networks ${a.networks}, volumes ${a.volumes}${cleanup}`
  );
}

/**
 * The line before the run starts, in the CLI's words: which flag or config key asked, and the
 * flag that overrides the files. The decision itself is the core's (decideRunMode).
 */
function modeNote(d: RunModeDecision, category: string): string | undefined {
  if (d.reason === undefined) return undefined;
  const asked = d.asked.by === 'caller' ? '--shared' : `runs.modes.${category}: shared`;
  if (d.forced) return `warning: mode shared (--shared --force) although ${d.reason}`;
  if (d.downgraded)
    return `mode exclusive: ${asked} asked, but ${d.reason} (--shared --force runs shared anyway)`;
  return `mode shared (${asked}): ${d.reason}`;
}

export const runCommandCli: Command = {
  name: 'run',
  summary:
    'Run a test command under the environment lock, with prediction, sampling and cleanup of what it leaves.',
  usage,
  async run(argv) {
    const sep = argv.indexOf('--');
    const own = sep >= 0 ? argv.slice(0, sep) : argv;
    const command = sep >= 0 ? argv.slice(sep + 1) : [];
    const { values } = parse(
      own,
      {
        options: {
          ...dockerOptions,
          category: { type: 'string' },
          env: { type: 'string' },
          why: { type: 'string' },
          timeout: { type: 'string' },
          force: { type: 'boolean' },
          'refuse-at': { type: 'string' },
          'no-cleanup': { type: 'boolean' },
          'record-argv': { type: 'boolean' },
          json: { type: 'boolean' },
          config: { type: 'string' },
          dir: { type: 'string' },
          shared: { type: 'boolean' },
          exclusive: { type: 'boolean' },
          'dry-run': { type: 'boolean' },
        },
      },
      usage,
    );
    if (values.shared && values.exclusive)
      throw new CliError('--shared and --exclusive contradict each other', ExitCode.usage);
    if (!values.category) throw new CliError(`--category is required\nusage: ${usage}`, ExitCode.usage);
    if (command.length === 0)
      throw new CliError(`no command given after --\nusage: ${usage}`, ExitCode.usage);
    const config = loadCliConfig(values.config);
    const runs = (config.runs ?? {}) as RunsConfig;
    const runCleanup = cleanupSettingsFrom(runs.cleanup, 'runs.cleanup', RUN_CLEANUP_KEYS);
    let refuseAt: Level;
    let timeoutMs: number;
    let prediction: PredictionOptions;
    try {
      prediction = validatePredictionOptions(runs.prediction, 'runs.prediction');
      refuseAt = parseLevel(values['refuse-at'] ?? runs.refuseAt ?? 'EMERGENCY');
      timeoutMs = values.timeout !== undefined ? parseDuration(values.timeout) : 300_000;
    } catch (err) {
      throw new CliError(errorMessage(err), ExitCode.usage);
    }
    let modes: Record<string, LockMode>;
    try {
      modes = validateRunModes(runs.modes, 'runs.modes');
    } catch (err) {
      throw new CliError(`config ${errorMessage(err)}`, ExitCode.usage);
    }
    // The flag, else the config's runs.modes[category], else exclusive; `--shared --force`
    // (never the config) runs shared despite fixed names or ports in the compose files.
    const decision = await decideRunMode({
      category: values.category,
      mode: values.shared ? 'shared' : values.exclusive ? 'exclusive' : undefined,
      modes,
      forceShared: values.shared && values.force,
    });
    const { mode } = decision;
    const note = modeNote(decision, values.category);
    if (values['dry-run']) {
      if (values.json) printJson({ dryRun: true, category: values.category, mode, note });
      else process.stderr.write(messageLine(note ?? `mode ${mode}`));
      return ExitCode.ok;
    }
    if (note !== undefined) process.stderr.write(messageLine(note));
    const logger = stderrLogger(!!process.env.DOCKER_STABILITY_VERBOSE);
    const abort = new AbortController();
    // Until the command runs, Ctrl+C abandons the wait; afterwards runInTerminal passes it on.
    const onSignal = (): void => abort.abort(new CliError('interrupted', 130));
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    let status: Promise<number> | undefined;
    try {
      const { report } = await withTestEnvironment<CommandOutcome>(
        {
          category: values.category,
          env: values.env,
          mode: decision,
          // The lock folder may be shared: the default reason names the command, never its arguments.
          why: values.why ?? `${values.category}: ${recordedCommand(command)[0]}`.slice(0, 500),
          command,
          recordArgv: values['record-argv'],
          client: createClient(values),
          lock: new LockManager({ dir: values.dir, logger }),
          store: new RunStore(undefined, { logger }),
          monitor: monitorSettingsFrom(config),
          prediction,
          refuseAt,
          force: values.force,
          timeoutMs,
          cleanup: runCleanup,
          cleanupAfter: !values['no-cleanup'],
          signal: abort.signal,
          logger,
          onProgress: (m) => process.stderr.write(messageLine(m)),
        },
        async (env) => {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          // Gated: nothing of the command runs before its group is in the lock's metadata. On this
          // host the lock then stays held while the group lives, even if this process is killed.
          const child = runInTerminal(command, { env: env.env, gated: true });
          status = child.status;
          if (child.command.pgid !== undefined)
            await env.lock
              .setProcessGroup(child.command.pgid)
              .catch((err: Error) =>
                logger.warn(`could not record the command's process group: ${err.message}`),
              );
          child.command.open();
          return child.command.ended;
        },
      );
      if (values.json) printJson(report);
      else process.stderr.write(messageLine(summaryLine(report)));
      return (await status) ?? ExitCode.failure;
    } catch (err) {
      if (err instanceof RunRefusedError) {
        if (values.json)
          printJson({
            refused: true,
            reason: err.message,
            prediction: err.prediction,
            predicted: err.predicted,
          });
        throw new CliError(`${err.message} Use --force to run anyway.`, ExitCode.refused);
      }
      if (err instanceof LockTimeoutError) throw new CliError(err.message, ExitCode.lockTimeout);
      throw err;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  },
};
