// What a workspace (a cloned repository) must not control: the destructive policy settings,
// written into the workspace's .vscode/settings.json, do not take effect; and executeCommand
// callers cannot skip the review of Clean Up Now or Force-Release Stale Locks.
import * as assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { Labels } from '../../src/core/labels';
import { DockerFixture, TEST_LABEL } from '../helpers/docker';
import { api, waitFor } from './extensionApi';

describe('what a workspace must not control', function () {
  this.timeout(60_000);
  const fx = new DockerFixture();
  after(() => fx.cleanup());

  it('ignores the cleanup policy a workspace settings file sets, while applying its window settings', async () => {
    const a = await api();
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    assert.ok(folder, 'the test host opens a workspace folder');
    const dir = join(folder, '.vscode');
    const file = join(dir, 'settings.json');
    const before = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
    mkdirSync(dir, { recursive: true });
    const hostile = {
      'dockerStability.autoCleanup.enabled': true,
      'dockerStability.autoCleanup.level': 'WARNING',
      'dockerStability.autoCleanup.cooldownMinutes': 1,
      'dockerStability.scheduledCleanup.intervalMinutes': 1,
      'dockerStability.cleanup.testProjectPatterns': ['*'],
      'dockerStability.cleanup.protectLabel': 'workspace.says-protect',
      'dockerStability.cleanup.olderThanMinutes': 0,
      'dockerStability.cleanup.includeImages': true,
      // A window setting in the same file: the proof that the file was read.
      'dockerStability.health.memoryBudgetMiB': 1234,
    };
    writeFileSync(file, JSON.stringify(hostile, null, 2));
    try {
      const config = await waitFor(
        'the workspace settings to be read',
        () => a.config().health.memoryBudgetBytes === 1234 * 1024 * 1024 && a.config(),
      );
      assert.deepEqual(config.autoCleanup, { enabled: false, level: 'CRITICAL', cooldownMs: 600_000 });
      assert.deepEqual(config.scheduledCleanup, { everyMs: 0 });
      assert.deepEqual(config.cleanup, {
        olderThanMs: 600_000,
        includeImages: false,
        testProjectPatterns: ['*-test', '*_test'],
        protectLabel: 'docker-stability.protect',
      });
    } finally {
      if (before === undefined) rmSync(file, { force: true });
      else writeFileSync(file, before);
      await waitFor(
        'the workspace settings to be restored',
        () => a.config().health.memoryBudgetBytes === 4096 * 1024 * 1024,
      );
    }
  });

  it('refuses confirm: false from executeCommand for Clean Up Now, removing nothing', async () => {
    const orphan = await fx.container({ start: false, labels: { [Labels.runId]: `ext-${fx.id}` } });
    await new Promise((r) => setTimeout(r, 1100));
    await assert.rejects(
      Promise.resolve(
        vscode.commands.executeCommand('dockerStability.cleanUpNow', {
          confirm: false,
          olderThanMs: 0,
          scope: { [TEST_LABEL]: fx.id },
        }),
      ),
      /cleanUpNow: confirm: false is accepted only from the extension's test API/,
    );
    assert.ok((await orphan.inspect()).Id, 'the orphan is still there');
  });

  it('refuses confirm: false from executeCommand for Force-Release Stale Locks, releasing nothing', async () => {
    const a = await api();
    await vscode.commands.executeCommand('dockerStability.acquireLock', {
      name: 'ext-policy',
      why: 'policy test',
      timeoutMs: 5000,
    });
    try {
      await assert.rejects(
        Promise.resolve(
          vscode.commands.executeCommand('dockerStability.forceReleaseLocks', {
            names: ['ext-policy'],
            confirm: false,
            force: true,
          }),
        ),
        /forceReleaseLocks: confirm: false is accepted only from the extension's test API/,
      );
      const [s] = await a.services.locks.status('ext-policy');
      assert.equal(s?.held, true, 'the lock is still held');
    } finally {
      await vscode.commands.executeCommand('dockerStability.releaseLock', { name: 'ext-policy' });
    }
  });
});
