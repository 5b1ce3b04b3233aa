// The extension's contributions and activation as package.json declares them, and its API.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { CommandId } from '../../src/extension/commandIds';
import { api, extensionId, waitFor } from './extensionApi';

interface Pkg {
  activationEvents: string[];
  contributes: {
    commands: { command: string; category: string; title: string }[];
    configuration: { properties: Record<string, unknown> };
  };
  capabilities: { untrustedWorkspaces: { supported: string | boolean; restrictedConfigurations?: string[] } };
}

describe('extension activation and contributions', () => {
  const pkg = (): Pkg => vscode.extensions.getExtension(extensionId)!.packageJSON as Pkg;

  it('activates on startup or compose files, never on "*", and returns its API', async () => {
    assert.deepEqual(
      pkg().activationEvents.filter((e) => e === '*'),
      [],
    );
    assert.ok(pkg().activationEvents.some((e) => e.startsWith('workspaceContains:')));
    const a = await api();
    assert.ok(a.services.client, 'a Docker client for the resolved endpoint');
    assert.equal(typeof a.statusBar().text, 'string');
  });

  it('contributes exactly the commands of the CommandId table, all under "Docker Stability"', async () => {
    const contributed = pkg().contributes.commands;
    assert.deepEqual(contributed.map((c) => c.command).sort(), Object.values(CommandId).sort());
    for (const c of contributed) {
      assert.equal(c.category, 'Docker Stability');
      assert.match(c.command, /^dockerStability\.[a-z]+[A-Z][A-Za-z]*$/);
    }
    const registered = new Set(await vscode.commands.getCommands(true));
    for (const id of Object.values(CommandId)) assert.ok(registered.has(id), `${id} is not registered`);
  });

  it('declares limited support for untrusted workspaces that restricts the endpoint and lock folder', () => {
    const u = pkg().capabilities.untrustedWorkspaces;
    assert.equal(u.supported, 'limited');
    for (const key of ['dockerStability.endpoint', 'dockerStability.lock.folder'])
      assert.ok(u.restrictedConfigurations?.includes(key), key);
  });

  it('warns about an invalid setting by name and keeps running on the default', async () => {
    const a = await api();
    await vscode.workspace
      .getConfiguration('dockerStability')
      .update('sampleIntervalSeconds', -1, vscode.ConfigurationTarget.Global);
    try {
      // VS Code itself stores the value; readConfig names it and uses the default.
      const problem = await waitFor('the problem to be reported', () =>
        a.configProblems().find((p) => p.startsWith('dockerStability.sampleIntervalSeconds ')),
      );
      assert.match(problem, /from 0\.25 to 3600 \(got -1\); using the default 2/);
      assert.equal(a.config().monitor.intervalMs, 2000);
    } finally {
      await vscode.workspace
        .getConfiguration('dockerStability')
        .update('sampleIntervalSeconds', undefined, vscode.ConfigurationTarget.Global);
    }
  });
});
