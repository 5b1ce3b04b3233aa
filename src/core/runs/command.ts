import { spawn, type StdioOptions } from 'node:child_process';
import { constants } from 'node:os';
import { hasProcessGroups } from '../util/platform';
import type { CommandOutcome } from './testRun';

const POSIX = hasProcessGroups();

/** A command started by `startCommand`, until and after it ends. */
export interface StartedCommand {
  /** Its process group on POSIX (the child leads it), which `signal` reaches as a whole. */
  readonly pgid?: number;
  /** How it ended; one that could not start ends with 127 (not found) or 126 (not runnable), as a shell reports. */
  readonly ended: Promise<CommandOutcome>;
  /** Why it could not start, once `ended` says so. */
  readonly error?: Error;
  /** Whether it is still running. */
  readonly running: boolean;
  /** Signals the whole command (its process group on POSIX) while it runs. */
  signal(sig: NodeJS.Signals): void;
}

/**
 * Starts a command from an argument array (no shell) with extra environment. On POSIX it gets a
 * process group of its own, so a lock can stay held while any process of it lives and a signal
 * reaches all of it. Terminal behaviour (forwarding this process's signals) is the caller's.
 */
export function startCommand(
  command: string[],
  opts: { env?: Record<string, string>; stdio?: StdioOptions } = {},
): StartedCommand {
  const [file, ...args] = command;
  if (!file) {
    const error = new Error('no command');
    return {
      error,
      running: false,
      ended: Promise.resolve({ command, exitCode: 127 }),
      signal: () => undefined,
    };
  }
  const child = spawn(file, args, {
    stdio: opts.stdio ?? 'inherit',
    env: { ...process.env, ...opts.env },
    detached: POSIX,
  });
  const started: { error?: Error } = {};
  const ended = new Promise<CommandOutcome>((resolve) => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      started.error = err;
      resolve({ command, exitCode: err.code === 'ENOENT' ? 127 : 126 });
    });
    child.once('exit', (code, signal) => resolve({ command, exitCode: code, signal }));
  });
  const running = (): boolean =>
    child.pid !== undefined && child.exitCode === null && child.signalCode === null;
  return {
    ...(POSIX && child.pid !== undefined ? { pgid: child.pid } : {}),
    ended,
    get error() {
      return started.error;
    },
    get running() {
      return running();
    },
    signal(sig) {
      if (!running()) return;
      try {
        if (POSIX) process.kill(-(child.pid as number), sig);
        else child.kill(sig);
      } catch {
        // ended meanwhile
      }
    },
  };
}

/**
 * Runs a command (see `startCommand`) and resolves with how it ended; `onStart` gets its process
 * group (POSIX), `onError` why it could not start.
 */
export async function runCommand(
  command: string[],
  extraEnv: Record<string, string>,
  opts: { onError?: (err: Error) => void; onStart?: (pgid: number) => void; stdio?: StdioOptions } = {},
): Promise<CommandOutcome> {
  const started = startCommand(command, { env: extraEnv, stdio: opts.stdio });
  if (started.pgid !== undefined) opts.onStart?.(started.pgid);
  const outcome = await started.ended;
  if (started.error) opts.onError?.(started.error);
  return outcome;
}

/** The exit status a shell reports for an outcome: the code, or 128 + the signal number. */
export function exitStatus(o: CommandOutcome): number {
  if (o.exitCode !== null) return o.exitCode;
  return signalStatus(o.signal ?? undefined);
}

/** 128 + the signal's number, as a shell reports a death by signal. */
export function signalStatus(signal: NodeJS.Signals | undefined): number {
  const n = signal ? constants.signals[signal] : undefined;
  return 128 + (n ?? 1);
}
