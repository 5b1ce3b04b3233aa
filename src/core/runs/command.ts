import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { hasProcessGroups } from '../util/platform';
import type { CommandOutcome } from './testRun';

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const POSIX = hasProcessGroups();

/**
 * Runs a command (argument array, no shell) with inherited stdio and extra environment,
 * forwarding SIGINT/SIGTERM/SIGHUP to it while it runs, and resolves with how it ended.
 * On POSIX the command gets a process group of its own, reported through `onStart`, and
 * signals go to the whole group: a lock can then stay held while any process of it lives.
 * A command that cannot be started resolves with exit code 127, as a shell would.
 */
export function runCommand(
  command: string[],
  extraEnv: Record<string, string>,
  opts: { onError?: (err: Error) => void; onStart?: (pgid: number) => void } = {},
): Promise<CommandOutcome> {
  const [file, ...args] = command;
  if (!file) return Promise.resolve({ command, exitCode: 127 });
  return new Promise((resolve) => {
    const child = spawn(file, args, {
      stdio: 'inherit',
      env: { ...process.env, ...extraEnv },
      detached: POSIX,
    });
    if (child.pid !== undefined && POSIX) opts.onStart?.(child.pid);
    const forward = (signal: NodeJS.Signals): void => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      try {
        if (POSIX && child.pid !== undefined) process.kill(-child.pid, signal);
        else child.kill(signal);
      } catch {
        // ended meanwhile
      }
    };
    for (const s of FORWARDED) process.on(s, forward);
    const done = (outcome: CommandOutcome): void => {
      for (const s of FORWARDED) process.off(s, forward);
      resolve(outcome);
    };
    child.on('error', (err) => {
      opts.onError?.(err);
      done({ command, exitCode: 127 });
    });
    child.on('exit', (code, signal) => done({ command, exitCode: code, signal }));
  });
}

/** The exit status a shell reports for an outcome: the code, or 128 + the signal number. */
export function exitStatus(o: CommandOutcome): number {
  if (o.exitCode !== null) return o.exitCode;
  const n = o.signal ? constants.signals[o.signal] : undefined;
  return 128 + (n ?? 1);
}
