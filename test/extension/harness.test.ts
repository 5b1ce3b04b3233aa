// Proves the harness itself: these tests run inside a real VS Code extension host, with the
// extension loaded from this working tree, activated by its own activation events, and with
// the scratch environment the harness promises (state folder, workspace folder).
import * as assert from 'node:assert/strict';
import { existsSync, mkdtempSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import * as vscode from 'vscode';

const extensionId = 'docker-stability.docker-stability';
const repoRoot = resolve(__dirname, '../../..');

async function waitFor(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('extension-host harness', () => {
  it('runs in a VS Code extension host of at least the version package.json requires', () => {
    const [major, minor] = vscode.version.split('.').map(Number);
    assert.ok(major === 1 && (minor ?? 0) >= 100, `VS Code ${vscode.version} is older than ^1.100.0`);
  });

  it('loads the extension under development from this working tree', () => {
    const ext = vscode.extensions.getExtension(extensionId);
    assert.ok(ext, `${extensionId} is not installed in the extension host`);
    assert.equal(realpathSync(ext.extensionPath), realpathSync(repoRoot));
    const main = (ext.packageJSON as { main?: string }).main;
    assert.equal(main, './dist/extension.js');
    assert.ok(existsSync(join(repoRoot, main)), `${main} is missing: run npm run build first`);
  });

  it('is activated by its activation events, without any test asking for it', async () => {
    const ext = vscode.extensions.getExtension(extensionId);
    assert.ok(ext);
    const events = (ext.packageJSON as { activationEvents?: string[] }).activationEvents ?? [];
    assert.ok(events.includes('onStartupFinished'), 'expected onStartupFinished among the activation events');
    assert.ok(!events.includes('*'), 'the extension must not activate on "*"');
    await waitFor('the extension to activate on startup', () => ext.isActive, 30_000);
  });

  it('registers every command that package.json contributes', async () => {
    const ext = vscode.extensions.getExtension(extensionId);
    assert.ok(ext);
    await ext.activate();
    const contributed = (
      (ext.packageJSON as { contributes?: { commands?: { command: string }[] } }).contributes?.commands ?? []
    ).map((c) => c.command);
    const registered = new Set(await vscode.commands.getCommands(true));
    assert.deepEqual(
      contributed.filter((c) => !registered.has(c)),
      [],
      'contributed commands without a handler',
    );
  });

  it('gives the extension host a scratch state folder, not the user real one', () => {
    const home = process.env.DOCKER_STABILITY_HOME;
    assert.ok(home, 'DOCKER_STABILITY_HOME is not set in the extension host');
    assert.ok(statSync(home).isDirectory());
    assert.ok(
      !realpathSync(home).startsWith(join(homedir(), '.local')),
      `${home} is the user's own state folder`,
    );
  });

  it('opens a writable scratch workspace folder for tests to put fixtures in', () => {
    const folders = vscode.workspace.workspaceFolders ?? [];
    assert.equal(folders.length, 1, 'expected exactly one workspace folder');
    const dir = mkdtempSync(join(folders[0]!.uri.fsPath, 'harness-'));
    try {
      writeFileSync(join(dir, 'probe.txt'), 'ok');
      assert.ok(existsSync(join(dir, 'probe.txt')));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
