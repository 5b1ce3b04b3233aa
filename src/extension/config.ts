import * as vscode from 'vscode';
import { MACHINE_SETTINGS, parseConfig, SECTION, type ExtensionConfig, type SettingKey } from './settings';
import { stripControlChars } from '../core/util/terminalText';

let lastProblems: string[] = [];

/** The problems the last readConfig() found (the test API reads them). */
export function configProblems(): string[] {
  return lastProblems;
}

/** Reads and validates every setting; a warning names each bad one (defaults are used instead). */
export function readConfig(log: vscode.LogOutputChannel, warn = true): ExtensionConfig {
  const section = vscode.workspace.getConfiguration(SECTION);
  // VS Code already ignores a workspace's value of a machine-scoped setting; reading the user
  // layer alone keeps that true whatever the scope a given VS Code version applies.
  const { config, problems } = parseConfig((key: SettingKey) =>
    MACHINE_SETTINGS.has(key) ? section.inspect(key)?.globalValue : section.get(key),
  );
  lastProblems = problems;
  for (const p of problems) log.warn(`settings: ${p}`);
  if (warn && problems.length > 0) {
    // A problem quotes the value set, which a workspace may have written.
    const first = stripControlChars(problems[0] as string);
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more, see the log)` : '';
    void vscode.window.showWarningMessage(`Docker Stability: ${first}${more}`);
  }
  return config;
}

/** The one configuration listener: fires with the fresh config when any of our settings change. */
export function onConfigChange(
  log: vscode.LogOutputChannel,
  cb: (config: ExtensionConfig) => void,
): vscode.Disposable {
  return vscode.workspace.onDidChangeConfiguration((e) => {
    if (e.affectsConfiguration(SECTION)) cb(readConfig(log));
  });
}
