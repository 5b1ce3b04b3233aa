// The "Run Doctor" palette command: the core doctor over this window's setup, shown readably.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { CommandId } from '../../src/extension/commandIds';
import { doctorMarkdown } from '../../src/extension/commands/doctor';
import type { DoctorCheck } from '../../src/core/doctor';
import { api } from './extensionApi';

describe('Run Doctor command', function () {
  this.timeout(60_000);

  it('checks the endpoint, engine, lock folder and level of this window and returns the checks', async () => {
    await api();
    const checks = (await vscode.commands.executeCommand(CommandId.runDoctor, {
      show: false,
    })) as DoctorCheck[];
    const byName = new Map(checks.map((c) => [c.name, c]));
    assert.equal(byName.get('endpoint')?.status, 'pass', byName.get('endpoint')?.detail);
    assert.equal(byName.get('engine')?.status, 'pass', byName.get('engine')?.detail);
    assert.equal(byName.get('lock folder')?.status, 'pass', byName.get('lock folder')?.detail);
    assert.ok(byName.has('level') && byName.has('orphans') && byName.has('compose tool'));
  });

  it('renders every check as a table row, with the fix only beside a problem, pipes escaped', () => {
    const md = doctorMarkdown(
      [
        {
          name: 'endpoint',
          status: 'pass',
          detail: 'unix:///var/run/docker.sock answers',
          remedy: { action: 'clean-up', params: { dryRunFirst: true } },
        },
        {
          name: 'locks',
          status: 'warn',
          detail: 'stale: test | ci',
          remedy: { action: 'force-release-lock', params: { lock: 'test', staleOnly: true } },
        },
      ],
      new Date(0),
    );
    assert.match(md, /0 failed, 1 warning\(s\), 1 passed/);
    assert.match(md, /\| ✅ \| endpoint \| unix:\/\/\/var\/run\/docker\.sock answers \| {2}\|/);
    assert.match(md, /\| ⚠️ \| locks \| stale: test \\\| ci \| Force-Release "test" \|/);
    assert.doesNotMatch(md, /Clean Up Now/);
  });
});
