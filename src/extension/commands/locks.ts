import * as vscode from 'vscode';
import { validateLockName, type LockStatus } from '../../core/lock';
import { formatDuration } from '../../core/util/duration';
import { stripControlChars } from '../../core/util/terminalText';
import {
  Cancelled,
  confirm,
  refuseUnconfirmed,
  requireTrust,
  type Caller,
  type CommandContext,
} from './context';
import { errorMessage } from '../../shared/errors';

export interface ForceReleaseArgs {
  /** Locks to release; without it the user picks. */
  names?: string[];
  /** false: no dialogs (default true). From the test API only. */
  confirm?: boolean;
  /** Also release locks that are not stale (their holders lose them mid-run). */
  force?: boolean;
}

export interface ForceReleaseResult {
  name: string;
  released: boolean;
  reason: string;
}

// Holders, reasons and names are read from the lock folder, which others can write: every one
// reaches a dialog or a quick pick stripped of control characters.
function holderText(s: LockStatus): string {
  const h = s.holder;
  return stripControlChars(h ? `${h.user}@${h.host} pid ${h.pid}` : (s.metadataProblem ?? 'unknown holder'));
}

function whyText(s: LockStatus): string | undefined {
  return s.holder?.why ? stripControlChars(s.holder.why) : undefined;
}

function ageText(s: LockStatus): string {
  const parts = [];
  if (s.ageMs !== undefined) parts.push(`held ${formatDuration(s.ageMs)}`);
  if (s.heartbeatAgeMs !== undefined) parts.push(`heartbeat ${formatDuration(s.heartbeatAgeMs)} ago`);
  if (s.staleReason) parts.push(stripControlChars(s.staleReason));
  return parts.join(', ');
}

function parseForceArgs(raw: unknown, caller: Caller): ForceReleaseArgs {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object')
    throw new Error('forceReleaseLocks: the argument must be an object like { names, confirm, force }');
  const a = raw as Record<string, unknown>;
  refuseUnconfirmed('forceReleaseLocks', a.confirm, caller);
  const out: ForceReleaseArgs = { confirm: a.confirm !== false, force: a.force === true };
  if (a.names !== undefined) {
    if (!Array.isArray(a.names)) throw new Error('forceReleaseLocks: names must be a list of lock names');
    out.names = a.names.map((n) => validateLockName(n));
  }
  return out;
}

/** Asks twice before taking a live lock from its holder: they lose it mid-run. */
async function confirmLive(s: LockStatus): Promise<boolean> {
  const first = await confirm(
    `Lock "${stripControlChars(s.name)}" is NOT stale: ${holderText(s)} is alive and holds it.`,
    `Why: ${whyText(s) ?? '(not given)'}\n${ageText(s)}\n\nForcing it lets another run start while this one still uses the environment.`,
    'Force Release…',
  );
  return (
    first &&
    confirm(
      `Really force-release "${stripControlChars(s.name)}" from ${holderText(s)}?`,
      'The holder is told its lock was compromised.',
      'Force Release',
    )
  );
}

async function pickLocks(
  ctx: CommandContext,
  all: LockStatus[],
): Promise<{ names: string[]; force: boolean }> {
  const stale = all.filter((s) => s.held && s.stale);
  const live = all.filter((s) => s.held && !s.stale && !ctx.services.held.has(s.name));
  type Item = vscode.QuickPickItem & { lock?: LockStatus; forceLive?: boolean };
  const items: Item[] = stale.map((s) => ({
    label: `$(lock) ${stripControlChars(s.name)}`,
    description: holderText(s),
    detail: `${whyText(s) ? `${whyText(s)} — ` : ''}${ageText(s)}`,
    lock: s,
  }));
  if (live.length > 0)
    items.push(
      { label: '', kind: vscode.QuickPickItemKind.Separator },
      {
        label: `$(warning) Force a lock that is not stale…`,
        detail: `${live.length} held by live processes`,
        forceLive: true,
      },
    );
  if (items.length === 0) {
    void vscode.window.showInformationMessage('Docker Stability: no stale locks.');
    throw new Cancelled();
  }
  const picked = await vscode.window.showQuickPick(items, {
    title: 'Force-release stale locks',
    canPickMany: true,
    ignoreFocusOut: true,
    placeHolder: stale.length === 0 ? 'No stale locks' : 'Pick the stale locks to release',
  });
  if (!picked || picked.length === 0) throw new Cancelled();
  if (picked.some((i) => i.forceLive)) {
    const one = await vscode.window.showQuickPick(
      live.map((s) => ({
        label: stripControlChars(s.name),
        description: holderText(s),
        detail: `${whyText(s) ?? ''} ${ageText(s)}`,
        lock: s,
      })),
      { title: 'Force-release a lock that is NOT stale', ignoreFocusOut: true },
    );
    if (!one || !(await confirmLive(one.lock))) throw new Cancelled();
    return { names: [one.lock.name], force: true };
  }
  const names = picked.flatMap((i) => (i.lock ? [i.lock.name] : []));
  if (
    !(await confirm(
      `Force-release ${names.length} stale lock${names.length === 1 ? '' : 's'}?`,
      stripControlChars(names.join(', ')),
      'Release',
    ))
  )
    throw new Cancelled();
  return { names, force: false };
}

export async function forceReleaseLocks(
  ctx: CommandContext,
  raw?: unknown,
  caller: Caller = 'command',
): Promise<ForceReleaseResult[] | undefined> {
  requireTrust('Force-Release Stale Locks');
  const args = parseForceArgs(raw, caller);
  let names = args.names;
  let force = args.force ?? false;
  if (!names) {
    if (args.confirm === false) throw new Error('forceReleaseLocks: pass names when confirm is false');
    try {
      ({ names, force } = await pickLocks(ctx, await ctx.services.locks.status()));
    } catch (err) {
      if (err instanceof Cancelled) return undefined;
      throw err;
    }
  } else if (args.confirm !== false) {
    const what = `${names.length} lock${names.length === 1 ? '' : 's'}${force ? ', even if not stale' : ''}`;
    const listed = stripControlChars(names.join(', '));
    const detail = force ? `${listed}\n\nA live holder loses its lock mid-run.` : listed;
    if (!(await confirm(`Force-release ${what}?`, detail, 'Release'))) return undefined;
  }
  return releaseConfirmed(ctx, names, force, args.confirm !== false);
}

/** Releases locks the user has already confirmed (or the test API asked for unattended). */
async function releaseConfirmed(
  ctx: CommandContext,
  names: string[],
  force: boolean,
  tell: boolean,
): Promise<ForceReleaseResult[]> {
  const results: ForceReleaseResult[] = [];
  for (const name of names) {
    const r = await ctx.services.locks.forceRelease(name, {
      why: `force-released from VS Code by ${process.env.USER ?? 'a user'}`,
      staleOnly: !force,
    });
    ctx.log.info(`force-release ${name}: ${r.released ? 'released' : 'not released'} (${r.reason})`);
    results.push({ name, released: r.released, reason: r.reason });
  }
  await ctx.services.refreshLocks();
  if (tell) {
    const done = results.filter((r) => r.released).length;
    void vscode.window.showInformationMessage(
      stripControlChars(
        `Docker Stability: released ${done} of ${results.length} lock(s). ${results
          .filter((r) => !r.released)
          .map((r) => `${r.name}: ${r.reason}`)
          .join('; ')}`,
      ),
    );
  }
  return results;
}

/** The dashboard's force-release button: one confirmation for a stale lock, two for a live one. */
export async function forceReleaseFromDashboard(ctx: CommandContext, name: string): Promise<void> {
  requireTrust('Force release');
  const [s] = await ctx.services.locks.status(name);
  if (!s?.held) {
    void vscode.window.showInformationMessage(
      `Docker Stability: lock "${stripControlChars(name)}" is not held any more.`,
    );
    await ctx.services.refreshLocks();
    return;
  }
  const ok = s.stale
    ? await confirm(
        `Force-release stale lock "${stripControlChars(name)}"?`,
        `${holderText(s)}\n${ageText(s)}`,
        'Release',
      )
    : await confirmLive(s);
  // Confirmed here, with the holder and its age shown: no second dialog.
  if (ok) await releaseConfirmed(ctx, [name], !s.stale, true);
}

export interface AcquireArgs {
  name?: string;
  why?: string;
  /** How long to wait for a held lock; default 5 minutes (the progress notification can cancel). */
  timeoutMs?: number;
}

export async function acquireLock(
  ctx: CommandContext,
  raw?: unknown,
): Promise<{ name: string; token: string } | undefined> {
  requireTrust('Acquire Environment Lock');
  const a = (raw ?? {}) as AcquireArgs;
  if (typeof a !== 'object')
    throw new Error('acquireLock: the argument must be an object like { name, why, timeoutMs }');
  const interactive = raw === undefined;
  let name = a.name ?? ctx.services.config.locks.defaultName;
  let why = a.why;
  if (interactive) {
    const n = await vscode.window.showInputBox({
      title: 'Acquire environment lock',
      prompt: 'Lock name',
      value: name,
      validateInput: (v) => {
        try {
          validateLockName(v);
          return undefined;
        } catch (e) {
          return errorMessage(e);
        }
      },
    });
    if (n === undefined) return undefined;
    name = n;
    why = await vscode.window.showInputBox({
      title: `Acquire "${name}"`,
      prompt: 'Why (shown to others waiting)',
      value: 'working in VS Code',
    });
    if (why === undefined) return undefined;
  }
  name = validateLockName(name);
  if (ctx.services.held.has(name)) throw new Error(`this window already holds lock "${name}"`);
  const locks = ctx.services.locks;
  const handle = await vscode.window.withProgress(
    {
      location: vscode.ProgressLocation.Notification,
      title: `Docker Stability: waiting for lock "${name}"…`,
      cancellable: true,
    },
    (_progress, token) => {
      const ac = new AbortController();
      token.onCancellationRequested(() => ac.abort(new Error(`cancelled waiting for lock "${name}"`)));
      return locks.acquire(name, {
        why: why ?? 'VS Code',
        timeoutMs: a.timeoutMs ?? 300_000,
        signal: ac.signal,
        onCompromised: (err) => {
          ctx.services.held.delete(name);
          ctx.log.warn(`lock ${name} compromised: ${err.message}`);
          void vscode.window.showWarningMessage(
            `Docker Stability: lock "${name}" was taken from this window: ${err.message}`,
          );
          void ctx.services.refreshLocks();
        },
      });
    },
  );
  ctx.services.held.set(name, handle);
  ctx.log.info(`acquired lock ${name}`);
  await ctx.services.refreshLocks();
  if (interactive)
    void vscode.window.showInformationMessage(
      `Docker Stability: lock "${name}" acquired. Release it with "Release Environment Lock".`,
    );
  return { name, token: handle.token };
}

export async function releaseLock(ctx: CommandContext, raw?: unknown): Promise<string[]> {
  const a = (raw ?? {}) as { name?: string };
  const held = [...ctx.services.held.keys()];
  let names: string[];
  if (a.name !== undefined) names = [validateLockName(a.name)];
  else if (held.length <= 1 || raw !== undefined) names = held;
  else {
    const picked = await vscode.window.showQuickPick(held, {
      title: 'Release environment lock',
      canPickMany: true,
    });
    names = picked ?? [];
  }
  if (names.length === 0) {
    if (raw === undefined)
      void vscode.window.showInformationMessage('Docker Stability: this window holds no environment lock.');
    return [];
  }
  const released: string[] = [];
  for (const n of names) {
    const h = ctx.services.held.get(n);
    if (!h) throw new Error(`this window does not hold lock "${n}"`);
    await h.release();
    ctx.services.held.delete(n);
    released.push(n);
    ctx.log.info(`released lock ${n}`);
  }
  await ctx.services.refreshLocks();
  return released;
}
