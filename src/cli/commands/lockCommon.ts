import {
  DEFAULT_LOCK_NAME,
  InvalidLockNameError,
  LockDirError,
  LockManager,
  LockTimeoutError,
  type LockHandle,
  type LockMode,
} from '../../core/lock';
import { stderrLogger } from '../../core/log';
import { defaultLockDir } from '../../core/paths';
import { CliError, ExitCode, parseDurationOption } from '../util';
import { errorMessage } from '../../shared/errors';

// What the `lock` subcommands share: usage, options, the manager, errors, an interruptible acquire.

export const USAGE = `docker-stability lock <subcommand> [options]

  status [--json] [--name N]                      every lock in the folder: holder, age, heartbeat, stale, queue
  run --name N --why "..." [--timeout S] [--lost-grace S] [--shared] -- <command> [args...]
                                                  hold the lock while the command runs; exits with its code
                                                  (--shared: beside other shared runs, never an exclusive one)
  acquire --name N --why "..." [--timeout S]      hold it from a background keeper; prints the token
  release --name N [--token T]                    tell that keeper to let go
  force-release --name N [--why "..."] [--force]  remove a stale lock (--force: even a live one)

Every subcommand takes --dir D (else DOCKER_STABILITY_LOCK_DIR, else the per-user lock folder)
and --stale S (heartbeat age after which a holder is stale; default 10s). Durations: 30, 30s, 5m.
--timeout 0 tries once. --why defaults to the command's name. If the lock is lost while the
command runs, run stops it (SIGTERM, SIGKILL after --lost-grace, default 5s) and exits 5.
Exit codes: 0 ok, 1 failure, 3 lock timeout, 5 lock lost during run, 64 usage.`;

export const common = {
  dir: { type: 'string' },
  stale: { type: 'string' },
} as const;

/** Signals a child should see too; SIGHUP does not exist on Windows. */
export const FORWARDED: NodeJS.Signals[] =
  process.platform === 'win32' ? ['SIGINT', 'SIGTERM'] : ['SIGINT', 'SIGTERM', 'SIGHUP'];

export function manager(values: { dir?: string; stale?: string }): LockManager {
  const staleMs = parseDurationOption(values.stale, 'stale');
  try {
    return new LockManager({ dir: values.dir ?? defaultLockDir(), staleMs, logger: stderrLogger(false) });
  } catch (err) {
    throw new CliError(`--stale: ${errorMessage(err)}`, ExitCode.usage);
  }
}

/** Library errors to one-line CLI errors with the documented exit codes. */
export function cliError(err: unknown): unknown {
  if (err instanceof LockTimeoutError) return new CliError(err.message, ExitCode.lockTimeout);
  if (err instanceof InvalidLockNameError) return new CliError(err.message, ExitCode.usage);
  if (err instanceof LockDirError) return new CliError(err.message, ExitCode.failure);
  return err;
}

export function lockName(value: string | undefined): string {
  return value ?? DEFAULT_LOCK_NAME;
}

/** Acquires, turning Ctrl-C while waiting into a clean cancel. */
export async function acquireInterruptibly(
  m: LockManager,
  name: string,
  why: string,
  timeoutMs: number | undefined,
  keeper = false,
  mode: LockMode = 'exclusive',
): Promise<LockHandle> {
  const abort = new AbortController();
  const onSignal = (): void =>
    abort.abort(new CliError(`gave up waiting for lock "${name}" (interrupted)`, 130));
  for (const s of FORWARDED) process.on(s, onSignal);
  try {
    return await m.acquire(name, { why, timeoutMs, signal: abort.signal, keeper, mode });
  } catch (err) {
    throw cliError(err);
  } finally {
    for (const s of FORWARDED) process.removeListener(s, onSignal);
  }
}
