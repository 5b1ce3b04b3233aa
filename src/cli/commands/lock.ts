import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { basename } from 'node:path';
import {
  DEFAULT_LOCK_NAME,
  InvalidLockNameError,
  LockDirError,
  LockManager,
  LockTimeoutError,
  hostId,
  isPidAlive,
  isSameProcessAlive,
  type LockHandle,
  type LockHolder,
  type LockMode,
  type LockStatus,
} from '../../core/lock';
import { stderrLogger } from '../../core/log';
import { defaultLockDir } from '../../core/paths';
import { formatDuration } from '../../core/util/duration';
import { stripControlChars } from '../../core/util/terminalText';
import {
  CliError,
  ExitCode,
  messageLine,
  parse,
  parseDurationOption,
  printJson,
  type Command,
} from '../util';

const USAGE = `docker-stability lock <subcommand> [options]

  status [--json] [--name N]                      every lock in the folder: holder, age, heartbeat, stale
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

const common = {
  dir: { type: 'string' },
  stale: { type: 'string' },
} as const;

/** Signals a child should see too; SIGHUP does not exist on Windows. */
const FORWARDED: NodeJS.Signals[] =
  process.platform === 'win32' ? ['SIGINT', 'SIGTERM'] : ['SIGINT', 'SIGTERM', 'SIGHUP'];

function manager(values: { dir?: string; stale?: string }): LockManager {
  const staleMs = parseDurationOption(values.stale, 'stale');
  try {
    return new LockManager({ dir: values.dir ?? defaultLockDir(), staleMs, logger: stderrLogger(false) });
  } catch (err) {
    throw new CliError(`--stale: ${(err as Error).message}`, ExitCode.usage);
  }
}

/** Library errors to one-line CLI errors with the documented exit codes. */
function cliError(err: unknown): unknown {
  if (err instanceof LockTimeoutError) return new CliError(err.message, ExitCode.lockTimeout);
  if (err instanceof InvalidLockNameError) return new CliError(err.message, ExitCode.usage);
  if (err instanceof LockDirError) return new CliError(err.message, ExitCode.failure);
  return err;
}

function lockName(value: string | undefined): string {
  return value ?? DEFAULT_LOCK_NAME;
}

/** The status JSON the issue fixes: name, held, stale, holder {user, host, pid, why, acquiredAt, heartbeatAt}. */
function statusJson(s: LockStatus): Record<string, unknown> {
  const out: Record<string, unknown> = { name: s.name, held: s.held, stale: s.stale };
  if (s.staleReason) out.staleReason = s.staleReason;
  if (s.ageMs !== undefined) out.ageMs = Math.round(s.ageMs);
  if (s.heartbeatAgeMs !== undefined) out.heartbeatAgeMs = Math.round(s.heartbeatAgeMs);
  if (s.holder) out.holder = holderJson(s.holder);
  if (s.metadataProblem) out.metadataProblem = s.metadataProblem;
  if (s.lastForcedRelease) out.lastForcedRelease = s.lastForcedRelease;
  if (s.shared) {
    out.shared = s.shared.map((m) => ({
      stale: m.stale,
      ...(m.staleReason ? { staleReason: m.staleReason } : {}),
      heartbeatAgeMs: Math.round(m.heartbeatAgeMs),
      ...(m.holder ? { holder: holderJson(m.holder) } : { metadataProblem: m.metadataProblem }),
    }));
  }
  return out;
}

function holderJson(h: LockHolder): Record<string, unknown> {
  const { user, host, pid, why, acquiredAt, heartbeatAt, takeover, keeper, needs } = h;
  return {
    user,
    host,
    pid,
    why,
    acquiredAt,
    heartbeatAt,
    ...(takeover ? { takeover } : {}),
    ...(keeper ? { keeper } : {}),
    ...(needs ? { needs } : {}),
  };
}

function statusLine(s: LockStatus): string {
  const shared = (s.shared ?? []).map((m) => {
    const h = m.holder;
    const who = h
      ? `${h.user}@${h.host} pid ${h.pid}${h.why ? `: ${h.why}` : ''}`
      : `an unknown holder (${m.metadataProblem})`;
    return `\n  shared by ${who}, heartbeat ${formatDuration(m.heartbeatAgeMs)} ago${m.stale ? ` STALE (${m.staleReason})` : ''}`;
  });
  if (!s.held) {
    const f = s.lastForcedRelease;
    const head = shared.length ? `${s.name}: shared by ${shared.length}` : `${s.name}: free`;
    return `${head}${f ? ` (last forced release ${f.at} by ${f.by.user}@${f.by.host}: ${f.reason})` : ''}${shared.join('')}`;
  }
  const state = s.stale
    ? `STALE (${s.staleReason})`
    : s.holderStopped
      ? 'held (holder process stopped: resume or end it)'
      : 'held';
  const h = s.holder;
  const who = h
    ? `by ${h.user}@${h.host} pid ${h.pid}${h.keeper ? ' (keeper)' : ''} for ${formatDuration(s.ageMs ?? 0)}, heartbeat ${formatDuration(s.heartbeatAgeMs ?? 0)} ago${h.why ? `: ${h.why}` : ''}`
    : `by an unknown holder (${s.metadataProblem}), heartbeat ${formatDuration(s.heartbeatAgeMs ?? 0)} ago`;
  const takeover = h?.takeover ? `\n  took over at ${h.takeover.at}: ${h.takeover.reason}` : '';
  const draining = shared.length
    ? `\n  waiting for ${shared.length} shared holder${shared.length === 1 ? '' : 's'} to finish:`
    : '';
  return `${s.name}: ${state} ${who}${takeover}${draining}${shared.join('')}`;
}

async function status(argv: string[]): Promise<number> {
  const { values } = parse(
    argv,
    { options: { ...common, json: { type: 'boolean' }, name: { type: 'string' } } },
    USAGE,
  );
  const m = manager(values);
  const list = await m.status(values.name).catch((err: unknown) => {
    throw cliError(err);
  });
  if (values.json) printJson(list.map(statusJson));
  else if (list.length === 0) process.stdout.write(`no locks in ${m.dir}\n`);
  // Every field of a status comes from a folder others may write: no terminal escapes get through.
  else
    process.stdout.write(
      list.map((l) => statusLine(l).split('\n').map(stripControlChars).join('\n')).join('\n') + '\n',
    );
  return ExitCode.ok;
}

/** Acquires, turning Ctrl-C while waiting into a clean cancel. */
async function acquireInterruptibly(
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

/** Signals that end `lock run`: the command's process group gets them first, then the lock is released. */
const ENDING: NodeJS.Signals[] =
  process.platform === 'win32'
    ? ['SIGINT', 'SIGTERM']
    : ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGABRT', 'SIGUSR2'];
/** Passed on to the command as they are; the others (a crash of this process) end it with SIGTERM. */
const PASSED_ON = new Set<NodeJS.Signals>(['SIGINT', 'SIGTERM', 'SIGHUP']);
const DEFAULT_LOST_GRACE_MS = 5_000;

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(process.platform === 'win32' ? pgid : -pgid, signal);
  } catch {
    // the group is gone already
  }
}

async function run(argv: string[]): Promise<number> {
  const sep = argv.indexOf('--');
  if (sep < 0 || sep === argv.length - 1)
    throw new CliError(`lock run needs a command after --\nusage: ${USAGE}`, ExitCode.usage);
  const { values } = parse(
    argv.slice(0, sep),
    {
      options: {
        ...common,
        name: { type: 'string' },
        why: { type: 'string' },
        timeout: { type: 'string' },
        'lost-grace': { type: 'string' },
        shared: { type: 'boolean' },
      },
    },
    USAGE,
  );
  const [cmd, ...args] = argv.slice(sep + 1) as [string, ...string[]];
  const m = manager(values);
  const name = lockName(values.name);
  const graceMs = parseDurationOption(values['lost-grace'], 'lost-grace') ?? DEFAULT_LOST_GRACE_MS;
  // The command's name, not its argv: arguments can carry secrets into a shared folder.
  const why = values.why ?? basename(cmd);
  const handle = await acquireInterruptibly(
    m,
    name,
    why,
    parseDurationOption(values.timeout, 'timeout'),
    false,
    values.shared ? 'shared' : 'exclusive',
  );
  let lost: Error | undefined;
  let ending: NodeJS.Signals | undefined;
  let child: ReturnType<typeof spawn> | undefined;
  const stopGroup = (first: NodeJS.Signals): void => {
    const pgid = child?.pid;
    if (!pgid || child?.exitCode !== null || child.signalCode !== null) return;
    signalGroup(pgid, first);
    setTimeout(() => signalGroup(pgid, 'SIGKILL'), graceMs).unref();
  };
  handle.onCompromised((err) => {
    lost = err;
    process.stderr.write(
      messageLine(
        `lock "${name}" was lost while "${basename(cmd)}" ran (${err.message}); stopping it (exit ${ExitCode.lockLost}: the run was not exclusive)`,
      ),
    );
    stopGroup('SIGTERM');
  });
  const onSignal = (signal: NodeJS.Signals): void => {
    ending ??= signal;
    stopGroup(PASSED_ON.has(signal) ? signal : 'SIGTERM');
  };
  for (const s of ENDING) process.on(s, onSignal);
  try {
    // A process group of its own (on POSIX detached means setsid): the lock's holder lives while
    // any process of it does, and a signal reaches the whole command, not only its first process.
    child = spawn(cmd, args, { stdio: 'inherit', detached: process.platform !== 'win32' });
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      child?.once('error', reject);
      child?.once('exit', (c, sig) => resolve([c, sig]));
    });
    if (child.pid !== undefined && process.platform !== 'win32') {
      await handle.setProcessGroup(child.pid).catch((err: unknown) => {
        process.stderr.write(
          messageLine(`warning: could not record the command's process group: ${(err as Error).message}`),
        );
      });
    }
    let code: number;
    try {
      const [c, sig] = await exited;
      code = sig ? 128 + (osConstants.signals[sig] ?? 0) : (c ?? ExitCode.failure);
    } catch (err) {
      const errno = (err as NodeJS.ErrnoException).code;
      throw new CliError(
        `cannot run ${cmd}: ${errno ?? (err as Error).message}`,
        errno === 'ENOENT' ? 127 : 126,
      );
    }
    if (lost) return ExitCode.lockLost;
    if (ending && !PASSED_ON.has(ending)) return 128 + (osConstants.signals[ending] ?? 0);
    return code;
  } finally {
    for (const s of ENDING) process.removeListener(s, onSignal);
    // A lock that cannot be removed (a read-only or vanished folder) is reported, not turned into the command's failure.
    await handle.release().catch((err: unknown) => {
      process.stderr.write(
        messageLine(`warning: could not release lock "${name}": ${(err as Error).message}`),
      );
    });
  }
}

/** Hidden: the background keeper `lock acquire` starts; holds the lock until signalled, heartbeating. */
async function keep(argv: string[]): Promise<number> {
  const { values } = parse(
    argv,
    {
      options: { ...common, name: { type: 'string' }, why: { type: 'string' }, timeout: { type: 'string' } },
    },
    USAGE,
  );
  // Disconnect once the message is out, so the parent (and, on failure, this process) can exit.
  const send = (msg: unknown): Promise<void> =>
    new Promise((resolve) => {
      if (!process.send) return resolve();
      process.send(msg, undefined, {}, () => {
        process.disconnect?.();
        resolve();
      });
    });
  let handle: LockHandle;
  try {
    handle = await manager(values).acquire(lockName(values.name), {
      why: values.why ?? '',
      timeoutMs: parseDurationOption(values.timeout, 'timeout'),
      keeper: true,
    });
  } catch (err) {
    const e = cliError(err);
    await send({
      ok: false,
      message: (e as Error).message,
      exitCode: e instanceof CliError ? e.exitCode : ExitCode.failure,
    });
    return ExitCode.failure;
  }
  await send({ ok: true, token: handle.token, pid: process.pid });
  // proper-lockfile's heartbeat timer is unref'd: this keeps the keeper alive until told otherwise.
  const alive = setInterval(() => undefined, 60_000);
  return new Promise<number>((resolve) => {
    const stop = (code: number): void => {
      clearInterval(alive);
      for (const s of FORWARDED) process.removeListener(s, onSignal);
      void handle.release().finally(() => resolve(code));
    };
    const onSignal = (): void => stop(ExitCode.ok);
    for (const s of FORWARDED) process.on(s, onSignal);
    handle.onCompromised(() => stop(ExitCode.failure));
  });
}

async function acquire(argv: string[]): Promise<number> {
  const { values } = parse(
    argv,
    {
      options: { ...common, name: { type: 'string' }, why: { type: 'string' }, timeout: { type: 'string' } },
    },
    USAGE,
  );
  const name = lockName(values.name);
  const m = manager(values);
  const args = [
    process.argv[1] as string,
    'lock',
    'keep',
    '--name',
    name,
    '--dir',
    m.dir,
    '--why',
    values.why ?? 'lock acquire',
  ];
  if (values.stale !== undefined) args.push('--stale', values.stale);
  if (values.timeout !== undefined) args.push('--timeout', values.timeout);
  // Detached with its own session, so closing this shell or Ctrl-C in it does not end the keeper.
  const child = spawn(process.execPath, args, {
    detached: true,
    stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
    windowsHide: true,
  });
  const onSignal = (): void => void child.kill('SIGTERM');
  for (const s of FORWARDED) process.on(s, onSignal);
  try {
    const msg = await new Promise<{
      ok: boolean;
      token?: string;
      pid?: number;
      message?: string;
      exitCode?: number;
    }>((resolve, reject) => {
      child.once('message', (m) => resolve(m as never));
      child.once('error', reject);
      child.once('exit', (code) =>
        reject(new CliError(`lock keeper exited (${code}) before acquiring lock "${name}"`)),
      );
    });
    if (!msg.ok) throw new CliError(msg.message ?? 'lock keeper failed', msg.exitCode ?? ExitCode.failure);
    process.stderr.write(
      `lock "${name}" acquired; held by keeper pid ${msg.pid} until \`docker-stability lock release --name ${name}\`\n`,
    );
    process.stdout.write(`${msg.token}\n`);
    return ExitCode.ok;
  } finally {
    for (const s of FORWARDED) process.removeListener(s, onSignal);
    if (child.connected) child.disconnect();
    child.unref();
  }
}

async function release(argv: string[]): Promise<number> {
  const { values } = parse(
    argv,
    { options: { ...common, name: { type: 'string' }, token: { type: 'string' } } },
    USAGE,
  );
  const name = lockName(values.name);
  const m = manager(values);
  const [s] = await m.status(name).catch((err: unknown) => {
    throw cliError(err);
  });
  const h = s?.holder;
  if (!s?.held) throw new CliError(`lock "${name}" is not held`);
  if (values.token !== undefined && values.token !== h?.token) {
    // Our keeper lost it (stopped, killed, forced): whoever holds it now is not ours to release.
    throw new CliError(
      `lock "${name}" is no longer held under that token (its keeper lost it); nothing was released`,
    );
  }
  if (!h)
    throw new CliError(`lock "${name}" has no readable holder (${s.metadataProblem}); use force-release`);
  if (!h.keeper)
    throw new CliError(
      `lock "${name}" is held by ${h.user}@${h.host} pid ${h.pid}, not by a keeper from \`lock acquire\`; use force-release`,
    );
  if (h.hostId !== hostId())
    throw new CliError(
      `lock "${name}" is kept on host ${h.host} (another host or pid namespace): run release there, or force-release`,
    );
  if (!isOurKeeper(h.pid, h.pidStart)) {
    throw new CliError(
      `lock "${name}": pid ${h.pid} is not the keeper that took it (it ended, or the metadata names another process); nothing was signalled`,
    );
  }
  // POSIX: the keeper releases on SIGTERM. Windows: this ends it at once, and the dead pid makes the lock stale.
  try {
    process.kill(h.pid, 'SIGTERM');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    const [now] = await m.status(name);
    if (!now?.held || now.holder?.token !== h.token) {
      process.stderr.write(`lock "${name}" released\n`);
      return ExitCode.ok;
    }
    if (isPidAlive(h.pid) === false) {
      const r = await m.forceRelease(name, { why: 'keeper exited without releasing', staleOnly: true });
      process.stderr.write(`lock "${name}" released (${r.reason})\n`);
      return ExitCode.ok;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new CliError(`keeper pid ${h.pid} did not release lock "${name}" within 5s`);
}

/**
 * The lock folder may be shared and writable by others, so the pid in its metadata is untrusted:
 * signal it only if it is the very process that recorded itself (same start time) and is a keeper
 * of ours by its command line.
 */
function isOurKeeper(pid: number, pidStart: string | undefined): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 1 || pid === process.pid) return false;
  if (process.platform === 'win32') return isPidAlive(pid) === true;
  if (pidStart === undefined || isSameProcessAlive(pid, pidStart) !== true) return false;
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const at = argv.indexOf('lock');
    return at >= 0 && argv[at + 1] === 'keep';
  } catch {
    return false;
  }
}

async function forceRelease(argv: string[]): Promise<number> {
  const { values } = parse(
    argv,
    {
      options: {
        ...common,
        name: { type: 'string' },
        why: { type: 'string' },
        'stale-only': { type: 'boolean' },
        force: { type: 'boolean' },
      },
    },
    USAGE,
  );
  if (values.force && values['stale-only'])
    throw new CliError('--force and --stale-only contradict each other', ExitCode.usage);
  if (values.name === undefined)
    throw new CliError(`force-release needs --name\nusage: ${USAGE}`, ExitCode.usage);
  const r = await manager(values)
    .forceRelease(values.name, { why: values.why, staleOnly: !values.force })
    .catch((err: unknown) => {
      throw cliError(err);
    });
  if (!r.released) throw new CliError(`${r.reason}${r.previous ? '; pass --force to remove it anyway' : ''}`);
  const p = r.previous;
  process.stderr.write(
    stripControlChars(
      `lock "${values.name}" force-released (${r.reason})${p ? `; was held by ${p.user}@${p.host} pid ${p.pid}` : ''}`,
    ) + '\n',
  );
  return ExitCode.ok;
}

const SUBCOMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  status,
  run,
  acquire,
  release,
  'force-release': forceRelease,
  keep,
};

export const lockCommand: Command = {
  name: 'lock',
  summary: 'environment locks: one test run per environment, across processes',
  usage: USAGE,
  async run(argv) {
    const [sub, ...rest] = argv;
    const fn = sub ? SUBCOMMANDS[sub] : undefined;
    if (!fn)
      throw new CliError(
        `${sub ? `unknown lock subcommand "${sub}"` : 'lock needs a subcommand'}\nusage: ${USAGE}`,
        ExitCode.usage,
      );
    try {
      return await fn(rest);
    } catch (err) {
      throw cliError(err);
    }
  },
};
