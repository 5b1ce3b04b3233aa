import * as vscode from 'vscode';
import { loadCleanup } from '../lazy';
import type { CleanupPlan, CleanupReport, PlanEntry } from '../../core/cleanup';
import { formatBytes } from '../../core/util/duration';
import { stripControlChars } from '../../core/util/terminalText';
import { cleanupOptions, reportView } from '../serviceOptions';
import {
  Cancelled,
  confirm,
  refuseUnconfirmed,
  requireTrust,
  type Caller,
  type CommandContext,
} from './context';

/** Arguments for `dockerStability.cleanUpNow` (tests and other extensions; the palette passes none). */
export interface CleanUpArgs {
  /** false: no quick pick and no confirmation (default true). From the test API only. */
  confirm?: boolean;
  /** Only resources carrying all of these labels are considered. */
  scope?: Record<string, string>;
  olderThanMs?: number;
  /** Plan only. */
  dryRun?: boolean;
}

function parseArgs(raw: unknown, caller: Caller): CleanUpArgs {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object')
    throw new Error(
      'cleanUpNow: the argument must be an object like { confirm, scope, olderThanMs, dryRun }',
    );
  const a = raw as Record<string, unknown>;
  refuseUnconfirmed('cleanUpNow', a.confirm, caller);
  const out: CleanUpArgs = {};
  if (a.confirm !== undefined) out.confirm = a.confirm !== false;
  if (a.dryRun !== undefined) out.dryRun = a.dryRun === true;
  if (a.olderThanMs !== undefined) {
    if (typeof a.olderThanMs !== 'number' || !(a.olderThanMs >= 0))
      throw new Error('cleanUpNow: olderThanMs must be a number >= 0');
    out.olderThanMs = a.olderThanMs;
  }
  if (a.scope !== undefined) {
    if (
      typeof a.scope !== 'object' ||
      a.scope === null ||
      Object.values(a.scope).some((v) => typeof v !== 'string')
    ) {
      throw new Error('cleanUpNow: scope must map label names to string values');
    }
    out.scope = a.scope as Record<string, string>;
  }
  return out;
}

// Names and reasons come from the daemon (network names, label values): shown stripped.
function describe(e: PlanEntry): string {
  return `${e.type} ${stripControlChars(e.name)}${e.bytes ? ` (${formatBytes(e.bytes)})` : ''}`;
}

/** Shows the plan; the user may untick entries. Returns what to remove, or throws Cancelled. */
async function pickFromPlan(plan: CleanupPlan): Promise<PlanEntry[]> {
  if (plan.remove.length === 0) {
    void vscode.window.showInformationMessage(
      `Docker Stability: nothing to clean up (${plan.keep.length} resources kept, see the log for why).`,
    );
    throw new Cancelled();
  }
  type Item = vscode.QuickPickItem & { entry?: PlanEntry };
  const items: Item[] = [
    { label: 'Remove', kind: vscode.QuickPickItemKind.Separator },
    ...plan.remove.map((e) => ({
      label: describe(e),
      description: stripControlChars(e.id.slice(0, 12)),
      detail: stripControlChars(e.reason),
      picked: true,
      entry: e,
    })),
  ];
  const picked = await vscode.window.showQuickPick(items, {
    title: `Clean up ${plan.endpoint}: ${plan.remove.length} to remove, ${plan.keep.length} kept`,
    placeHolder: 'Untick anything to keep, then press Enter',
    canPickMany: true,
    ignoreFocusOut: true,
    matchOnDetail: true,
  });
  const chosen = (picked ?? []).flatMap((i) => (i.entry ? [i.entry] : []));
  if (chosen.length === 0) throw new Cancelled();
  const ok = await confirm(
    `Remove ${chosen.length} Docker resource${chosen.length === 1 ? '' : 's'}?`,
    chosen.slice(0, 15).map(describe).join('\n') +
      (chosen.length > 15 ? `\n… and ${chosen.length - 15} more` : ''),
    'Remove',
  );
  if (!ok) throw new Cancelled();
  return chosen;
}

/**
 * Plans (dry run), lets the user review the plan, then removes what was confirmed under the
 * daemon's cleanup lock, with a progress notification and a summary.
 */
export async function cleanUpNow(
  ctx: CommandContext,
  raw?: unknown,
  caller: Caller = 'command',
): Promise<CleanupReport | undefined> {
  requireTrust('Clean Up Now');
  const args = parseArgs(raw, caller);
  const client = ctx.services.client;
  if (!client) throw new Error('no Docker endpoint: see the log');
  const { planCleanup, executeCleanup, cleanupLockName, summarize } = await loadCleanup();
  const opts = cleanupOptions(ctx.services.config, {
    scope: args.scope,
    ...(args.olderThanMs !== undefined ? { olderThanMs: args.olderThanMs } : {}),
    logger: ctx.logger,
  });
  const plan = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'Docker Stability: planning cleanup…' },
    () => planCleanup(client, opts),
  );
  ctx.log.info(`cleanup plan: remove ${plan.remove.length}, keep ${plan.keep.length}`);
  for (const k of plan.keep) ctx.log.debug(`  keep ${describe(k)}: ${stripControlChars(k.reason)}`);
  if (args.dryRun) {
    const report: CleanupReport = {
      daemon: plan.daemon,
      removed: plan.remove,
      kept: plan.keep,
      failed: [],
      durationMs: 0,
    };
    ctx.model.setCleanup(reportView(report, 'manual', true));
    return report;
  }
  let remove = plan.remove;
  if (args.confirm !== false) {
    try {
      remove = await pickFromPlan(plan);
    } catch (err) {
      if (err instanceof Cancelled) return undefined;
      throw err;
    }
  }
  const confirmed: CleanupPlan = {
    ...plan,
    remove,
    keep: [
      ...plan.keep,
      ...plan.remove
        .filter((e) => !remove.includes(e))
        .map((e) => ({ ...e, reason: 'unticked by the user' })),
    ],
  };
  const report = await vscode.window.withProgress(
    {
      location: vscode.ProgressLocation.Notification,
      title: `Docker Stability: removing ${remove.length} resources…`,
    },
    () =>
      ctx.services.locks.withLock(
        cleanupLockName(plan.daemon.id),
        `VS Code cleanup of ${client.endpoint.host} (daemon ${plan.daemon.id})`,
        () => executeCleanup(client, confirmed, { logger: ctx.logger }),
        {
          timeoutMs: 60_000,
        },
      ),
  );
  const summary = summarize(report);
  ctx.log.info(`cleanup: ${summary}`);
  for (const f of report.failed) ctx.log.warn(`  failed ${describe(f)}: ${stripControlChars(f.reason)}`);
  ctx.model.setCleanup(reportView(report, 'manual'));
  void ctx.services.countOrphansNow();
  const show =
    report.failed.length > 0 ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
  if (args.confirm !== false) {
    void show(`Docker Stability cleanup: ${summary}`, 'Open Dashboard').then(
      (c) => c && ctx.dashboard.open(),
    );
  }
  return report;
}
