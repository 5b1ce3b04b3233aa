import { spawn } from 'node:child_process';
import { readFileSync, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { hostId, isPidAlive, isSameProcessAlive, type LockHandle, type LockManager } from '../../core/lock';
import { readRegularFile, writeFileAtomic } from '../../core/util/fs';
import { keeperStop } from '../../core/util/platform';
import { CliError, ExitCode, parse, parseDurationOption } from '../util';
import { cliError, common, FORWARDED, lockName, manager, USAGE } from './lockCommon';
import { errorMessage } from '../../shared/errors';

/** Hidden: the background keeper `lock acquire` starts; holds the lock until signalled, heartbeating. */
export async function keep(argv: string[]): Promise<number> {
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
  const m = manager(values);
  try {
    handle = await m.acquire(lockName(values.name), {
      why: values.why ?? '',
      timeoutMs: parseDurationOption(values.timeout, 'timeout'),
      keeper: true,
    });
  } catch (err) {
    const e = cliError(err);
    await send({
      ok: false,
      message: errorMessage(e),
      exitCode: e instanceof CliError ? e.exitCode : ExitCode.failure,
    });
    return ExitCode.failure;
  }
  await send({ ok: true, token: handle.token, pid: process.pid });
  const request = releaseRequestPath(m.dir, handle.name);
  return new Promise<number>((resolve) => {
    // Also what keeps the keeper alive (proper-lockfile's heartbeat timer is unref'd): a release
    // request for this token (see keeperStop) ends it like a signal.
    const poll = setInterval(() => {
      void readRegularFile(request, 256)
        .then((text) => {
          if (text?.trim() === handle.token) stop(ExitCode.ok);
        })
        .catch(() => undefined); // a symlink, FIFO or huge file planted there is no request
    }, RELEASE_POLL_MS);
    let stopped = false;
    const stop = (code: number): void => {
      if (stopped) return;
      stopped = true;
      clearInterval(poll);
      for (const s of FORWARDED) process.removeListener(s, onSignal);
      void handle.release().finally(() => resolve(code));
    };
    const onSignal = (): void => stop(ExitCode.ok);
    for (const s of FORWARDED) process.on(s, onSignal);
    handle.onCompromised(() => stop(ExitCode.failure));
  });
}

export async function acquire(argv: string[]): Promise<number> {
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

export async function release(argv: string[]): Promise<number> {
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
  if (keeperStop() === 'request') return releaseByRequest(m, name, h);
  if (!isOurKeeper(h.pid, h.pidStart)) {
    throw new CliError(
      `lock "${name}": pid ${h.pid} is not the keeper that took it (it ended, or the metadata names another process); nothing was signalled`,
    );
  }
  // Proven ours (see isOurKeeper): the keeper releases on SIGTERM.
  try {
    process.kill(h.pid, 'SIGTERM');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
  return awaitRelease(m, name, h, `keeper pid ${h.pid} did not release lock "${name}" within 5s`);
}

/** Waits until `h` no longer holds the lock; if its pid is gone meanwhile, force-releases what it left as stale. */
async function awaitRelease(
  m: LockManager,
  name: string,
  h: { token: string; pid: number },
  timeoutMessage: string,
): Promise<number> {
  const deadline = Date.now() + RELEASE_WAIT_MS;
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
  throw new CliError(timeoutMessage);
}

const RELEASE_POLL_MS = 250;
/** How long release waits for the keeper (the messages say 5s). */
const RELEASE_WAIT_MS = 5_000;

/** Where `lock release` asks a keeper to let go: `<name>.release-request` beside the lock, holding the keeper's token. */
export function releaseRequestPath(dir: string, name: string): string {
  return join(dir, `${name}.release-request`);
}

/**
 * Release without signalling anyone (see keeperStop): ask the keeper holding `h.token` to let go
 * and wait for it; if the keeper's pid is gone meanwhile, force-release the lock it left as stale.
 */
export async function releaseByRequest(
  m: LockManager,
  name: string,
  h: { token: string; pid: number },
): Promise<number> {
  const request = releaseRequestPath(m.dir, name);
  await writeFileAtomic(request, `${h.token}\n`);
  try {
    return await awaitRelease(
      m,
      name,
      h,
      `the keeper of lock "${name}" did not act on the release request within 5s; use force-release if it is gone`,
    );
  } finally {
    await fsp.rm(request, { force: true }).catch(() => undefined);
  }
}

/**
 * The lock folder may be shared and writable by others, so the pid in its metadata is untrusted:
 * signal it only if it is the very process that recorded itself (same start time) and is a keeper
 * of ours by its command line.
 */
function isOurKeeper(pid: number, pidStart: string | undefined): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 1 || pid === process.pid) return false;
  if (pidStart === undefined || isSameProcessAlive(pid, pidStart) !== true) return false;
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const at = argv.indexOf('lock');
    return at >= 0 && argv[at + 1] === 'keep';
  } catch {
    return false;
  }
}
