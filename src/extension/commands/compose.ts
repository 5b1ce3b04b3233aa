import * as path from 'node:path';
import * as vscode from 'vscode';
import { loadCompose } from '../lazy';
import type { ApplyPlan } from '../../core/compose';
import { stripControlChars } from '../../core/util/terminalText';
import { Cancelled, confirm, requireTrust, type CommandContext } from './context';

export const PREVIEW_SCHEME = 'docker-stability-preview';

/** Serves the before/after texts of an apply plan to the diff editor (read-only, in memory). */
export class PreviewContent implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly texts = new Map<string, string>();
  private readonly registration = vscode.workspace.registerTextDocumentContentProvider(PREVIEW_SCHEME, this);

  put(key: string, text: string, file: string): vscode.Uri {
    this.texts.set(key, text);
    return vscode.Uri.from({ scheme: PREVIEW_SCHEME, path: `/${key}/${path.basename(file)}` });
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.path.split('/')[1] ?? '') ?? '';
  }

  dispose(): void {
    this.registration.dispose();
    this.texts.clear();
  }
}

export interface ApplyArgs {
  file?: string;
  /** Edit the compose file itself instead of writing the `.stability` override next to it. */
  inPlace?: boolean;
  /** false: no pick, no diff, no confirmation (default true). */
  confirm?: boolean;
}

async function pickComposeFile(ctx: CommandContext): Promise<string> {
  const { isOverrideFile } = await loadCompose();
  const globs = ctx.services.config.compose.globs;
  const found = new Map<string, vscode.Uri>();
  for (const g of globs)
    for (const u of await vscode.workspace.findFiles(g, '**/node_modules/**', 200)) found.set(u.fsPath, u);
  const active = vscode.window.activeTextEditor?.document.uri;
  if (
    active?.scheme === 'file' &&
    vscode.languages.match(
      globs.map((pattern) => ({ pattern })),
      vscode.window.activeTextEditor!.document,
    ) > 0
  )
    found.set(active.fsPath, active);
  const files = [...found.keys()]
    .filter((f) => !isOverrideFile(f))
    .sort((a, b) => (a === active?.fsPath ? -1 : b === active?.fsPath ? 1 : a.localeCompare(b)));
  if (files.length === 0) {
    void vscode.window.showInformationMessage('Docker Stability: no compose file found in this workspace.');
    throw new Cancelled();
  }
  const picked = await vscode.window.showQuickPick(
    files.map((f) => ({
      label: stripControlChars(path.basename(f)),
      description: stripControlChars(vscode.workspace.asRelativePath(path.dirname(f))),
      file: f,
    })),
    { title: 'Apply the base compose config to…', ignoreFocusOut: true },
  );
  if (!picked) throw new Cancelled();
  return picked.file;
}

/**
 * Plans the base config for a compose file, shows the change in the diff editor and writes it
 * (validated by compose) once confirmed. Returns the file written.
 */
export async function applyBaseCompose(
  ctx: CommandContext,
  preview: PreviewContent,
  raw?: unknown,
): Promise<{ written: string; plan: ApplyPlan } | undefined> {
  requireTrust('Apply Base Compose Config');
  // From the explorer's context menu the argument is the file's Uri.
  const a: ApplyArgs = raw instanceof vscode.Uri ? { file: raw.fsPath } : ((raw ?? {}) as ApplyArgs);
  if (typeof a !== 'object' || (a.file !== undefined && typeof a.file !== 'string'))
    throw new Error('applyBaseCompose: the argument must be an object like { file, inPlace, confirm }');
  const interactive = a.confirm !== false;
  let file = a.file;
  try {
    file ??= await pickComposeFile(ctx);
    const { planApply, writeApply } = await loadCompose();
    const plan = await planApply(file, { inPlace: a.inPlace === true });
    if (plan.before === plan.after) {
      if (interactive)
        void vscode.window.showInformationMessage(
          `Docker Stability: ${stripControlChars(path.basename(file))} already follows the base config.`,
        );
      return { written: '', plan };
    }
    if (interactive) {
      const key = Date.now().toString(36);
      const left = preview.put(`${key}a`, plan.before, plan.targetFile);
      const right = preview.put(`${key}b`, plan.after, plan.targetFile);
      await vscode.commands.executeCommand(
        'vscode.diff',
        left,
        right,
        `${path.basename(plan.targetFile)}: base compose config (${plan.mode})`,
        { preview: true },
      );
      const ok = await confirm(
        `Write ${path.basename(plan.targetFile)}?`,
        `${plan.mode === 'override' ? `An override next to ${path.basename(plan.file)}; run compose with both files.` : 'The compose file is edited in place.'}\n\n${plan.changes.join('\n')}`,
        'Write',
      );
      if (!ok) throw new Cancelled();
    }
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Docker Stability: validating with compose…' },
      () => writeApply(plan),
    );
    ctx.log.info(`apply: wrote ${result.written}${result.backup ? ` (backup ${result.backup})` : ''}`);
    if (interactive) {
      const open = await vscode.window.showInformationMessage(
        `Docker Stability: wrote ${stripControlChars(path.basename(result.written))} (validated by compose).`,
        'Open',
      );
      if (open) await vscode.window.showTextDocument(vscode.Uri.file(result.written));
    }
    return { written: result.written, plan };
  } catch (err) {
    if (err instanceof Cancelled) return undefined;
    throw err;
  }
}
