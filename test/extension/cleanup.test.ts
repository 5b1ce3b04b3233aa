// Clean Up Now, run through the test API without dialogs, really removes a stopped container that a test
// run owns, and keeps one in the same scope that no test run owns. The scope label confines
// the pass to what this test created.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { CleanupReport } from '../../src/core/cleanup';
import { Labels } from '../../src/core/labels';
import { DockerFixture, TEST_LABEL } from '../helpers/docker';
import { api, unattended, waitFor } from './extensionApi';

describe('command: Clean Up Now', function () {
  this.timeout(60_000);
  const fx = new DockerFixture();
  after(() => fx.cleanup());

  it('removes a labelled orphan in scope, keeps an unowned container, and reports it on the dashboard model', async () => {
    const a = await api();
    const orphan = await fx.container({ start: false, labels: { [Labels.runId]: `ext-${fx.id}` } });
    const unowned = await fx.container({ start: false });
    // The daemon reports creation times to the second: let the pass start strictly later.
    await new Promise((r) => setTimeout(r, 1100));

    const dry = (await unattended().cleanUpNow({
      confirm: false,
      dryRun: true,
      olderThanMs: 0,
      scope: { [TEST_LABEL]: fx.id },
    })) as CleanupReport;
    assert.deepEqual(
      dry.removed.map((e) => e.id),
      [orphan.id],
      'the dry run plans exactly the orphan',
    );
    assert.ok((await orphan.inspect()).Id, 'a dry run removes nothing');

    const report = (await unattended().cleanUpNow({
      confirm: false,
      olderThanMs: 0,
      scope: { [TEST_LABEL]: fx.id },
    })) as CleanupReport;
    assert.deepEqual(
      report.removed.map((e) => e.id),
      [orphan.id],
    );
    assert.ok(
      report.kept.some((e) => e.id === unowned.id && /not owned/.test(e.reason)),
      JSON.stringify(report.kept),
    );
    await assert.rejects(orphan.inspect(), (err: { statusCode?: number }) => err.statusCode === 404);
    assert.ok((await unowned.inspect()).Id, 'the unowned container is still there');
    const shown = await waitFor(
      'the report on the dashboard model',
      () => a.model.cleanup?.dryRun === false && a.model.cleanup,
    );
    assert.deepEqual(
      shown.removed.map((e) => e.kind),
      ['container'],
    );
  });

  it('rejects a malformed argument with a clear error instead of cleaning anything', async () => {
    await assert.rejects(
      Promise.resolve(
        vscode.commands.executeCommand('dockerStability.cleanUpNow', { scope: { [TEST_LABEL]: 42 } }),
      ),
      /scope must map label names to string values/,
    );
  });
});
