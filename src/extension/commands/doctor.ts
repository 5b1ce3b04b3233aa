import * as vscode from 'vscode';
import type { DoctorCheck, DoctorRemedy } from '../../core/doctor';
import { stripControlChars } from '../../core/util/terminalText';
import { CommandId } from '../commandIds';
import { errorMessage, type CommandContext } from './context';

const ICON: Record<DoctorCheck['status'], string> = { pass: '✅', warn: '⚠️', fail: '❌' };

/** A remedy in the extension's words, with the command its button runs (none where no command does it). */
export function remedyAction(r: DoctorRemedy): { title: string; command?: string; args?: unknown[] } {
  const openSetting = (id: string) => ({ command: 'workbench.action.openSettings', args: [id] });
  switch (r.action) {
    case 'start-daemon':
      return {
        title: `Start Docker at ${r.params.endpoint}, or set the endpoint`,
        ...openSetting('dockerStability.endpoint'),
      };
    case 'upgrade-engine':
      return { title: `Upgrade the engine to API ${r.params.minimumApiVersion} or newer (Docker 20.10)` };
    case 'install-compose':
      return { title: 'Install the Docker Compose plugin (or docker-compose)' };
    case 'fix-compose':
      return {
        title: 'Apply Base Compose Config',
        command: CommandId.applyBaseCompose,
        args: [{ file: r.params.file }],
      };
    case 'force-release-lock':
      return {
        title: `Force-Release "${r.params.lock}"`,
        command: CommandId.forceReleaseLocks,
        args: [{ names: [r.params.lock] }],
      };
    case 'set-setting':
      return { title: 'Set the Lock Folder', ...openSetting('dockerStability.lock.folder') };
    case 'clean-up':
    case 'reduce-load':
      return { title: 'Clean Up Now', command: CommandId.cleanUpNow };
  }
}

/** The doctor's checks as Markdown: a table a person reads top to bottom, fixes beside problems. */
export function doctorMarkdown(checks: DoctorCheck[], when: Date): string {
  // Details quote the daemon and file names: one line each, no control characters, pipes escaped.
  const cell = (t: string): string => stripControlChars(t.replace(/\n/g, ' ')).replace(/\|/g, '\\|');
  const failed = checks.filter((c) => c.status === 'fail').length;
  const warned = checks.filter((c) => c.status === 'warn').length;
  return [
    '# Docker Stability: doctor',
    '',
    `${when.toLocaleString()}: ${failed} failed, ${warned} warning(s), ${checks.length - failed - warned} passed.`,
    '',
    '| | Check | Result | Fix |',
    '| --- | --- | --- | --- |',
    ...checks.map(
      (c) =>
        `| ${ICON[c.status]} | ${cell(c.name)} | ${cell(c.detail)} | ${c.status === 'pass' || !c.remedy ? '' : cell(remedyAction(c.remedy).title)} |`,
    ),
    '',
    'The same checks run in a terminal with `docker-stability doctor`.',
    '',
  ].join('\n');
}

/**
 * Runs the doctor over this window's endpoint, lock folder and workspace folders, and shows the
 * result as a Markdown preview. Read-only, so it is allowed in Restricted Mode. Returns the
 * checks (for tests and other extensions).
 */
export async function runDoctorCommand(
  ctx: CommandContext,
  arg?: unknown,
): Promise<DoctorCheck[] | undefined> {
  const client = ctx.services.client;
  if (!client) throw new Error('no Docker endpoint could be resolved: see the log');
  const { runDoctor } = await import('../../core/doctor.js');
  const checks = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'Docker Stability: checking the setup…' },
    () =>
      runDoctor({
        client,
        lockDir: ctx.services.locks.dir,
        workspaceDirs: (vscode.workspace.workspaceFolders ?? [])
          .filter((f) => f.uri.scheme === 'file')
          .map((f) => f.uri.fsPath),
        monitor: ctx.services.config.monitor,
        cleanup: {
          testProjectPatterns: ctx.services.config.cleanup.testProjectPatterns,
          protectLabel: ctx.services.config.cleanup.protectLabel,
          olderThanMs: ctx.services.config.cleanup.olderThanMs,
        },
      }),
  );
  for (const c of checks) ctx.log.info(`doctor: ${c.status.toUpperCase()} ${c.name}: ${c.detail}`);
  const show = (arg as { show?: unknown } | undefined)?.show !== false;
  if (show) {
    try {
      const doc = await vscode.workspace.openTextDocument({
        language: 'markdown',
        content: doctorMarkdown(checks, new Date()),
      });
      await vscode.commands.executeCommand('markdown.showPreview', doc.uri);
    } catch (err) {
      ctx.log.warn(`doctor: preview failed (${errorMessage(err)}); the results are in this log`);
      ctx.log.show();
    }
  }
  if (show) offerRemedies(ctx, checks);
  return checks;
}

/** A notification with one button per remedy a command carries out (at most three); never awaited. */
function offerRemedies(ctx: CommandContext, checks: DoctorCheck[]): void {
  const actions = new Map<string, { command: string; args: unknown[] }>();
  for (const c of checks) {
    if (c.status === 'pass' || !c.remedy) continue;
    const a = remedyAction(c.remedy);
    if (a.command && actions.size < 3) actions.set(a.title, { command: a.command, args: a.args ?? [] });
  }
  if (actions.size === 0) return;
  const problems = checks.filter((c) => c.status !== 'pass').length;
  vscode.window
    .showWarningMessage(`Docker Stability doctor: ${problems} problem(s).`, ...actions.keys())
    .then(async (title) => {
      const a = title === undefined ? undefined : actions.get(title);
      if (a) await vscode.commands.executeCommand(a.command, ...a.args);
    })
    .then(undefined, (err: unknown) => ctx.log.warn(`doctor: ${errorMessage(err)}`));
}
