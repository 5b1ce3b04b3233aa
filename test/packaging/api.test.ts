// The curated public API (src/lib.ts) and its checked-in report (scripts/api-report.mjs): the
// report matches what the build emits, a difference fails with the command that updates it, and
// the internals the old `export *` chains leaked stay out.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const repoRoot = resolve(__dirname, '../../..');
const REPORT = join(repoRoot, 'api/docker-stability.api.txt');

function check(report: string): { code: number | null; output: string } {
  const r = spawnSync(process.execPath, ['scripts/api-report.mjs', '--check', '--report', report], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, output: `${r.stdout}${r.stderr}` };
}

describe('public API report (api/docker-stability.api.txt)', function () {
  this.timeout(120_000);
  let scratch = '';
  before(() => (scratch = mkdtempSync(join(tmpdir(), 'dstab-api-'))));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  const names = () =>
    new Set(
      readFileSync(REPORT, 'utf8')
        .split('\n')
        .filter((l) => l && !l.startsWith('#'))
        .map((l) => l.split(' ')[1]),
    );

  it('matches the declarations the build emitted', () => {
    const r = check(REPORT);
    assert.equal(r.code, 0, r.output);
  });

  it('fails on a dropped or an added export, naming it and the update command', () => {
    const lines = readFileSync(REPORT, 'utf8').split('\n');
    const dropped = join(scratch, 'dropped.txt');
    writeFileSync(dropped, lines.filter((l) => l !== 'class LockManager').join('\n'));
    const r1 = check(dropped);
    assert.equal(r1.code, 1);
    assert.match(r1.output, /^\+ class LockManager$/m);
    assert.match(r1.output, /npm run api:update/);
    const added = join(scratch, 'added.txt');
    writeFileSync(added, [...lines.slice(0, 2), 'function round2', ...lines.slice(2)].join('\n'));
    const r2 = check(added);
    assert.equal(r2.code, 1);
    assert.match(r2.output, /^- function round2$/m);
  });

  it('lists what docs/library.md promises and none of the internals', () => {
    const exported = names();
    for (const n of [
      'withTestEnvironment',
      'createGlobalSetup',
      'ResourceMonitor',
      'LockManager',
      'LockTimeoutError',
      'runCleanup',
      'summarize',
      'DockerClient',
      'resolveEndpoint',
      'RunRefusedError',
      'RunStore',
      'predict',
      'predictLevel',
      'checkCompose',
      'applyFix',
      'planApply',
      'detectComposeTool',
      'rate',
      'worstLevel',
      'parseLevel',
      'LEVELS',
      'runCommand',
      'mochaGlobalFixtures',
      'jestGlobalSetup',
      'jestGlobalTeardown',
      'Sample',
    ]) {
      assert.ok(exported.has(n), `${n} is documented but not exported`);
    }
    for (const n of [
      'round2',
      'workingSet',
      'globToRegExp',
      'lockPaths',
      'isPidAlive',
      'decide',
      'weightedPercentile',
    ])
      assert.ok(!exported.has(n), `${n} is internal but exported`);
  });
});
