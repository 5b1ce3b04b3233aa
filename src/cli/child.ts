import { startCommand, exitStatus, signalStatus, type StartedCommand } from '../core/runs/command';
import { messageLine } from './util';

/** Signals that end `run` and `lock run`: the command's process group gets them first. */
const ENDING: NodeJS.Signals[] =
  process.platform === 'win32'
    ? ['SIGINT', 'SIGTERM']
    : ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGABRT', 'SIGUSR2'];
/** Passed on to the command as they are; the others (a crash of this process) end it with SIGTERM. */
const PASSED_ON = new Set<NodeJS.Signals>(['SIGINT', 'SIGTERM', 'SIGHUP']);
export const DEFAULT_STOP_GRACE_MS = 5_000;

/** A command run from the terminal: its stdio is ours, and our ending signals reach it first. */
export interface TerminalCommand {
  readonly command: StartedCommand;
  /** Sends `first` to the command's group, then SIGKILL after the grace period if it still runs. */
  stop(first: NodeJS.Signals): void;
  /** The exit status to report: the command's (127/126 when it could not start, 128+n for a signal). */
  readonly status: Promise<number>;
}

/**
 * The one way the CLI runs a user's command (`run`, `lock run`): argument array, inherited stdio,
 * a process group of its own; SIGINT/TERM/HUP are passed on, SIGQUIT/ABRT/USR2 stop the command
 * with SIGTERM (SIGKILL after `graceMs`) and are then this process's exit status.
 */
export function runInTerminal(
  argv: string[],
  opts: { env?: Record<string, string>; graceMs?: number; gated?: boolean } = {},
): TerminalCommand {
  const command = startCommand(argv, { env: opts.env, stdio: 'inherit', gated: opts.gated });
  const graceMs = opts.graceMs ?? DEFAULT_STOP_GRACE_MS;
  const stop = (first: NodeJS.Signals): void => {
    if (!command.running) return;
    command.signal(first);
    setTimeout(() => command.signal('SIGKILL'), graceMs).unref();
  };
  let ending: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    ending ??= signal;
    stop(PASSED_ON.has(signal) ? signal : 'SIGTERM');
  };
  for (const s of ENDING) process.on(s, onSignal);
  const status = command.ended.then((outcome) => {
    for (const s of ENDING) process.removeListener(s, onSignal);
    if (command.error) {
      const code = (command.error as NodeJS.ErrnoException).code;
      process.stderr.write(messageLine(`cannot run ${argv[0]}: ${code ?? command.error.message}`));
    }
    if (ending && !PASSED_ON.has(ending)) return signalStatus(ending);
    return exitStatus(outcome);
  });
  return { command, stop, status };
}
