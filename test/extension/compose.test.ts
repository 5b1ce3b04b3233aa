// Compose support in the editor: diagnostics on a compose fixture with a tmpfs mount that vanish
// after the quick fix, and Apply Base Compose Config writing an override compose accepts.
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as vscode from 'vscode';
import { detectComposeTool } from '../../src/core/compose';
import { TEST_IMAGE } from '../helpers/docker';
import { api, waitFor } from './extensionApi';

const run = promisify(execFile);

function workspaceDir(prefix: string): string {
  const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  assert.ok(root, 'the harness opens a workspace folder');
  return mkdtempSync(join(root, prefix));
}

const tmpfsFixture = `services:
  db:
    image: ${TEST_IMAGE}
    network_mode: none
    tmpfs:
      - /var/lib/data
`;

describe('compose diagnostics and quick fixes', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => (dir = workspaceDir('compose-diag-')));
  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports a tmpfs mount as a Problem when a compose file opens, and the quick fix removes it', async () => {
    await api();
    const file = join(dir, 'docker-compose.test.yml');
    writeFileSync(file, tmpfsFixture);
    const doc = await vscode.workspace.openTextDocument(file);
    await vscode.window.showTextDocument(doc);
    const tmpfs = await waitFor('a tmpfs diagnostic', () =>
      vscode.languages.getDiagnostics(doc.uri).find((d) => d.code === 'tmpfs'),
    );
    assert.equal(tmpfs.source, 'docker-stability');
    assert.equal(doc.getText(tmpfs.range), '/var/lib/data');

    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>(
      'vscode.executeCodeActionProvider',
      doc.uri,
      tmpfs.range,
      vscode.CodeActionKind.QuickFix.value,
    );
    const fix = actions.find((a) => /tmpfs/i.test(a.title));
    assert.ok(fix?.edit, `no quick fix for tmpfs among ${actions.map((a) => a.title).join(', ')}`);
    assert.ok(await vscode.workspace.applyEdit(fix.edit));
    assert.doesNotMatch(doc.getText(), /tmpfs/);
    await waitFor(
      'the tmpfs diagnostic to vanish',
      () => !vscode.languages.getDiagnostics(doc.uri).some((d) => d.code === 'tmpfs'),
    );
    await doc.save();
  });

  it('checks in a worker: a file above the editor cap gets one message instead of a check', async () => {
    const a = await api();
    const file = join(dir, 'docker-compose.huge.yml');
    const service = (i: number): string =>
      `  s${i}:\n    image: ${TEST_IMAGE}\n    command: ["sleep", "3600"]\n    network_mode: none\n`;
    writeFileSync(file, 'services:\n' + Array.from({ length: 50_000 }, (_, i) => service(i)).join(''));
    const doc = await vscode.workspace.openTextDocument(file);
    const findings = await a.checkCompose(doc);
    assert.deepEqual(
      findings.map((f) => [f.severity, f.line]),
      [['info', 1]],
    );
    assert.match(findings[0]?.message ?? '', /not checked as you type: .* MB is above the 4 MB editor cap/);
  });

  it('ignores YAML files that do not match the compose globs', async () => {
    const a = await api();
    const file = join(dir, 'settings.yml');
    writeFileSync(file, tmpfsFixture);
    const doc = await vscode.workspace.openTextDocument(file);
    assert.deepEqual(await a.checkCompose(doc), []);
    assert.deepEqual(vscode.languages.getDiagnostics(doc.uri), []);
  });
});

describe('command: Apply Base Compose Config', function () {
  this.timeout(90_000);
  let dir: string;
  before(() => (dir = workspaceDir('compose-apply-')));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the .stability override next to the file, and compose accepts the pair', async () => {
    await api();
    const file = join(dir, 'docker-compose.yml');
    writeFileSync(
      file,
      `services:\n  app:\n    image: ${TEST_IMAGE}\n    network_mode: none\n    command: ["sleep", "60"]\n`,
    );
    const result = (await vscode.commands.executeCommand('dockerStability.applyBaseCompose', {
      file,
      confirm: false,
    })) as { written: string };
    assert.equal(result.written, join(dir, 'docker-compose.stability.yml'));
    assert.ok(existsSync(result.written));
    const override = readFileSync(result.written, 'utf8');
    assert.match(override, /app:/);
    assert.match(override, /healthcheck|mem_limit|resources/);
    assert.equal(
      readFileSync(file, 'utf8').includes('healthcheck'),
      false,
      'the compose file itself is untouched',
    );

    const tool = await detectComposeTool();
    assert.ok(tool, 'a compose tool is installed');
    const [cmd, ...pre] = tool.command as [string, ...string[]];
    const { stdout } = await run(cmd, [...pre, '-f', file, '-f', result.written, 'config'], { cwd: dir });
    assert.match(stdout, /app:/);
  });
});
