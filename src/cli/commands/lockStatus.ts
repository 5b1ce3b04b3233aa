import type { LockHolder, LockStatus, QueuedWaiter } from '../../core/lock';
import { formatDuration } from '../../core/util/duration';
import { stripControlChars } from '../../core/util/terminalText';
import { ExitCode, parse, printJson } from '../util';
import { cliError, common, manager, USAGE } from './lockCommon';

/** The status JSON the issue fixes: name, held, stale, holder {user, host, pid, why, acquiredAt, heartbeatAt}, shared, queue. */
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
  if (s.queue) {
    out.queue = s.queue.map((w) => ({
      position: w.position,
      mode: w.mode,
      user: w.holder.user,
      host: w.holder.host,
      pid: w.holder.pid,
      why: w.holder.why,
      ...(w.holder.keeper ? { keeper: true } : {}),
      since: w.holder.acquiredAt,
      waitingFor: w.waitingFor,
      heartbeatAgeMs: Math.round(w.heartbeatAgeMs),
      ...(w.blocked ? { blocked: true } : {}),
      ...(w.reserved ? { reserved: true } : {}),
    }));
  }
  return out;
}

/** The queue under a lock: one line per waiter, first first. */
function queueLines(s: LockStatus): string {
  return (s.queue ?? [])
    .map((w: QueuedWaiter) => {
      const h = w.holder;
      const since = Date.parse(h.acquiredAt);
      const waited = Number.isFinite(since) ? ` for ${formatDuration(Math.max(0, Date.now() - since))}` : '';
      return `\n  queued ${w.position}: ${w.mode}, ${h.user}@${h.host} pid ${h.pid}${h.keeper ? ' (keeper)' : ''}${waited}${h.why ? `: ${h.why}` : ''}; waiting for ${w.waitingFor}`;
    })
    .join('');
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
    return `${head}${f ? ` (last forced release ${f.at} by ${f.by.user}@${f.by.host}: ${f.reason})` : ''}${shared.join('')}${queueLines(s)}`;
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
  return `${s.name}: ${state} ${who}${takeover}${draining}${shared.join('')}${queueLines(s)}`;
}

export async function status(argv: string[]): Promise<number> {
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
