// Shared by the extension-host tests: the activated extension's test API, settings changes
// that wait until the extension applied them, and polling.
import * as vscode from 'vscode';
import type { DockerStabilityApi } from '../../src/extension/extension';

export const extensionId = 'docker-stability.docker-stability';

export async function api(): Promise<DockerStabilityApi> {
  const ext = vscode.extensions.getExtension<DockerStabilityApi>(extensionId);
  if (!ext) throw new Error(`${extensionId} is not installed in this extension host`);
  return ext.activate();
}

/** The destructive commands without dialogs: the API has them in an extension test host only. */
export function unattended(): NonNullable<DockerStabilityApi['unattended']> {
  const ext = vscode.extensions.getExtension<DockerStabilityApi>(extensionId);
  const u = ext?.exports?.unattended;
  if (!u)
    throw new Error(
      `${extensionId} offers no unattended API: not activated, or not in an extension test host`,
    );
  return u;
}

export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Sets `dockerStability.<key>` in the user settings (undefined removes it). */
export async function setSetting(key: string, value: unknown): Promise<void> {
  await vscode.workspace
    .getConfiguration('dockerStability')
    .update(key, value, vscode.ConfigurationTarget.Global);
}

/** Removes every setting a test changed, so the next test starts from the defaults. */
export async function resetSettings(keys: string[]): Promise<void> {
  for (const k of keys) await setSetting(k, undefined);
}
