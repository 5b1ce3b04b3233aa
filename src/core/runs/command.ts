import { spawn, type StdioOptions } from 'node:child_process';
import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import { constants } from 'node:os';
import { delimiter, join } from 'node:path';
import type { Writable } from 'node:stream';
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
  /** Lets a command started with `gated` go on from its gate (a no-op otherwise, and after the first call). */
  open(): void;
}

/**
 * The gate of a gated command: a POSIX shell that leads the new process group, waits for one line
 * on fd 3 and only then becomes the command (exec keeps its pid and group). If the parent dies
 * first, fd 3 ends empty and the command never runs (exit 125).
 */
const GATE = 'read _ <&3 || exit 125; exec 3<&-; exec "$@"';

/**
 * `file` as execvp finds it (a path with a slash as it is, else the first executable file of that
 * name in PATH), or why it cannot run: ENOENT (127) or EACCES (126), as spawn would say.
 */
function resolveCommand(file: string, env: NodeJS.ProcessEnv): string | 'ENOENT' | 'EACCES' {
  const runnable = (p: string): 'ok' | 'ENOENT' | 'EACCES' => {
    try {
      if (!statSync(p).isFile()) return 'EACCES';
      accessSync(p, fsConstants.X_OK);
      return 'ok';
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'ENOENT' : 'EACCES';
    }
  };
  if (file.includes('/')) {
    const r = runnable(file);
    return r === 'ok' ? file : r;
  }
  let found: 'ENOENT' | 'EACCES' = 'ENOENT';
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir || '.', file);
    const r = runnable(candidate);
    if (r === 'ok') return candidate;
    if (r === 'EACCES') found = 'EACCES';
  }
  return found;
}

function notStarted(command: string[], error: Error, exitCode = 127): StartedCommand {
  return {
    error,
    running: false,
    ended: Promise.resolve({ command, exitCode }),
    signal: () => undefined,
    open: () => undefined,
  };
}

/**
 * Starts a command from an argument array (no shell) with extra environment. On POSIX it gets a
 * process group of its own, so a lock can stay held while any process of it lives and a signal
 * reaches all of it. Terminal behaviour (forwarding this process's signals) is the caller's.
 */
export function startCommand(
  command: string[],
  opts: {
    env?: Record<string, string>;
    stdio?: StdioOptions;
    /**
     * POSIX: the command's process group exists at once, but the command itself runs only once
     * `open()` is called, so that the group can be recorded (a lock's holder) before anything of
     * the command runs. Elsewhere it runs at once.
     */
    gated?: boolean;
  } = {},
): StartedCommand {
  const [file, ...args] = command;
  if (!file) return notStarted(command, new Error('no command'));
  const env = { ...process.env, ...opts.env };
  const gated = POSIX && !!opts.gated;
  // Gated, the shell finds the command: a missing one is told apart first, as spawn tells it.
  const resolved = gated ? resolveCommand(file, env) : file;
  if (resolved === 'ENOENT' || resolved === 'EACCES')
    return notStarted(
      command,
      Object.assign(new Error(`spawn ${file} ${resolved}`), { code: resolved }),
      resolved === 'ENOENT' ? 127 : 126,
    );
  const stdio = opts.stdio ?? 'inherit';
  const child = gated
    ? spawn('/bin/sh', ['-c', GATE, 'sh', resolved, ...args], {
        stdio: [...(Array.isArray(stdio) ? stdio : [stdio, stdio, stdio]).slice(0, 3), 'pipe'],
        env,
        detached: true,
      })
    : spawn(file, args, { stdio, env, detached: POSIX });
  const gate = gated ? (child.stdio[3] as Writable | null) : null;
  gate?.on('error', () => undefined);
  let opened = !gated;
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
    open() {
      if (opened) return;
      opened = true;
      gate?.end('go\n');
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
  opts: {
    onError?: (err: Error) => void;
    /** Gets the command's process group before any of it runs; it runs once this has returned (or resolved). */
    onStart?: (pgid: number) => void | Promise<void>;
    stdio?: StdioOptions;
  } = {},
): Promise<CommandOutcome> {
  const started = startCommand(command, { env: extraEnv, stdio: opts.stdio, gated: !!opts.onStart });
  try {
    if (started.pgid !== undefined) await opts.onStart?.(started.pgid);
  } finally {
    started.open();
  }
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
