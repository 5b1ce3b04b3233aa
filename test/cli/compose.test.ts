import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { FIXTURES } from '../core/compose/fixtures';

const CLI = resolve(__dirname, '../../../dist/cli.js');

function cli(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { cwd, env: { ...process.env, NO_COLOR: '1' } },
      (err, stdout, stderr) => {
        done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

describe('docker-stability compose (CLI)', function () {
  this.timeout(120_000);
  let dir: string;
  before(() => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
    dir = mkdtempSync(join(tmpdir(), 'dstab-compose-cli-'));
    cpSync(FIXTURES, dir, { recursive: true });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('check --json prints findings with rule, severity, message, line, column and exits 1 on an error', async () => {
    const r = await cli(['compose', 'check', 'docker-compose.test.yml', '--json'], dir);
    assert.equal(r.code, 1, r.stderr);
    const findings = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    const tmpfs = findings.find((f) => f.rule === 'tmpfs' && f.severity === 'error');
    assert.deepEqual(
      { rule: tmpfs?.rule, line: tmpfs?.line, column: tmpfs?.column, file: tmpfs?.file },
      { rule: 'tmpfs', line: 13, column: 9, file: 'docker-compose.test.yml' },
    );
    for (const f of findings)
      for (const k of ['rule', 'severity', 'message', 'line', 'column']) assert.ok(k in f, k);
  });

  it('--fail-on sets the threshold: warnings pass by default and fail with --fail-on warning', async () => {
    assert.equal((await cli(['compose', 'check', 'wordpress.yml'], dir)).code, 0);
    assert.equal((await cli(['compose', 'check', 'wordpress.yml', '--fail-on', 'warning'], dir)).code, 1);
    assert.equal((await cli(['compose', 'check', 'compliant.test.yml', '--fail-on', 'info'], dir)).code, 0);
  });

  it('check prints file:line:column lines and a summary for several files', async () => {
    const r = await cli(['compose', 'check', 'wordpress.yml', 'compliant.test.yml'], dir);
    assert.match(
      r.stdout,
      /^wordpress\.yml:5:3 {2}warning {2}resource-limits {2}service "db" has no memory or CPU limit/m,
    );
    assert.match(r.stdout, /^2 file\(s\): 0 error\(s\), 5 warning\(s\), 0 info$/m);
  });

  it('bad input gets a clear error and the right exit code', async () => {
    const missing = await cli(['compose', 'check', 'wordpress.yml', 'nope.yml', '--json'], dir);
    assert.equal(missing.code, 1);
    const byFile = JSON.parse(missing.stdout) as Array<{
      file: string;
      rule: string;
      severity: string;
      message: string;
    }>;
    assert.ok(
      byFile.some((f) => f.file === 'wordpress.yml'),
      'the readable file is still checked',
    );
    assert.deepEqual(
      byFile.filter((f) => f.file === 'nope.yml').map((f) => [f.rule, f.severity, f.message]),
      [['compose-structure', 'error', 'cannot read the file: no such file']],
    );
    const fifo = join(dir, 'pipe.yml');
    execFileSync('mkfifo', [fifo]);
    const special = await cli(['compose', 'check', 'pipe.yml'], dir);
    assert.equal(special.code, 1);
    assert.match(special.stdout, /pipe\.yml:1:1 .*cannot read the file: not a regular file \(a FIFO\)/);
    const usage = await cli(['compose', 'check', 'wordpress.yml', '--fail-on', 'sometimes'], dir);
    assert.equal(usage.code, 64);
    assert.match(usage.stderr, /--fail-on must be one of error, warning, info/);
    assert.equal((await cli(['compose'], dir)).code, 64);
    assert.equal((await cli(['compose', 'frob'], dir)).code, 64);
    const malformed = await cli(['compose', 'apply', 'malformed.yml'], dir);
    assert.equal(malformed.code, 1);
    assert.match(malformed.stderr, /malformed\.yml:5:3: invalid YAML/);
  });

  it('apply --dry-run prints the changes and the diff and writes nothing', async () => {
    const r = await cli(['compose', 'apply', 'legacy-v2.yml', '--dry-run'], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^ {2}kibana: adds init: true, restart: "on-failure:3", memory limit 512M, cpus 0\.25, memory reservation 256M; no healthcheck: write one for this image by hand$/m,
    );
    assert.match(r.stdout, /^\+\+\+ .*legacy-v2\.stability\.yml$/m);
    assert.match(r.stdout, /dry run: legacy-v2\.stability\.yml not written/);
    assert.ok(!existsSync(join(dir, 'legacy-v2.stability.yml')));
  });

  it('apply writes the override (validated by compose); a second apply has nothing to change', async () => {
    const r = await cli(['compose', 'apply', 'sentry-anchors.yml', '--variant', 'test'], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^wrote sentry-anchors\.stability\.yml$/m);
    assert.match(readFileSync(join(dir, 'sentry-anchors.stability.yml'), 'utf8'), /variant: test/);
    const again = await cli(['compose', 'apply', 'sentry-anchors.yml', '--variant', 'test'], dir);
    assert.match(again.stdout, /nothing to change/);
  });

  it('apply --in-place edits the file and keeps a backup', async () => {
    const before = readFileSync(join(dir, 'wordpress.yml'), 'utf8');
    const r = await cli(['compose', 'apply', 'wordpress.yml', '--in-place'], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /wrote wordpress\.yml \(previous version in wordpress\.yml\.bak\)/);
    assert.equal(readFileSync(join(dir, 'wordpress.yml.bak'), 'utf8'), before);
  });
});
