import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { cleanupLockName } from '../../src/core/cleanup';
import { LockManager } from '../../src/core/lock';
import { DockerFixture, TEST_LABEL, testClient } from '../helpers/docker';

const CLI = resolve(__dirname, '../../../dist/cli.js');

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[]): Promise<Result> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

interface JsonEntry {
  type: string;
  id: string;
  name: string;
  reason: string;
}

describe('docker-stability cleanup (CLI, real engine)', function () {
  this.timeout(120_000);
  const f = new DockerFixture(testClient(60_000));
  const run = { 'docker-stability.run-id': `run-${f.id}` };
  const lockDir = mkdtempSync(join(tmpdir(), 'dstab-cleanup-cli-lock-'));
  const scopeArgs = ['--label', `${TEST_LABEL}=${f.id}`, '--older-than', '0s', '--lock-dir', lockDir];
  const owned: string[] = [];
  let unowned = '';

  before(async () => {
    const [a, b, c, u] = await Promise.all([
      f.container({ labels: run, start: false }),
      f.container({ labels: run, start: false }),
      f.container({ labels: run, start: false }),
      f.container({ start: false }),
    ]);
    const [vol, net] = await Promise.all([f.volume(undefined, run), f.network(undefined, run)]);
    owned.push(a.id, b.id, c.id, vol, net.id);
    unowned = u.id;
    await new Promise((r) => setTimeout(r, 1100));
  });

  after(async () => {
    await f.cleanup();
    rmSync(lockDir, { recursive: true, force: true });
  });

  async function remaining(): Promise<Set<string>> {
    const filters = { label: [`${TEST_LABEL}=${f.id}`] };
    const [cs, vs, ns] = await Promise.all([
      f.client.listContainers(filters),
      f.client.listVolumes(filters),
      f.client.listNetworks(filters),
    ]);
    return new Set([...cs.map((c) => c.Id), ...vs.map((v) => v.Name), ...ns.map((n) => n.Id)]);
  }

  it('--dry-run --json lists removed, kept and failed entries with type, id, name and reason, and touches nothing', async () => {
    const r = await cli(['cleanup', '--dry-run', '--json', ...scopeArgs]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as {
      dryRun: boolean;
      removed: JsonEntry[];
      kept: JsonEntry[];
      failed: JsonEntry[];
    };
    assert.equal(out.dryRun, true);
    assert.deepEqual(out.removed.map((e) => e.id).sort(), [...owned].sort());
    assert.deepEqual(
      out.kept.map((e) => e.id),
      [unowned],
    );
    assert.deepEqual(out.failed, []);
    for (const e of [...out.removed, ...out.kept]) {
      assert.deepEqual(Object.keys(e).sort(), ['id', 'name', 'reason', 'type']);
      assert.ok(['container', 'network', 'volume'].includes(e.type) && e.name && e.reason);
    }
    assert.equal(out.kept[0]?.reason, 'not owned by a test run');
    assert.deepEqual([...(await remaining())].sort(), [...owned, unowned].sort());
  });

  it('prints the plan for humans: what goes and what stays, by reason', async () => {
    const r = await cli(['cleanup', '--dry-run', ...scopeArgs]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Cleanup plan for .* \(older than 0ms\):$/m);
    assert.match(r.stdout, /^ {2}remove 5:$/m);
    assert.match(
      r.stdout,
      new RegExp(`^ {4}container +\\S+ +created container of run run-${f.id} \\(its own run label\\)$`, 'm'),
    );
    assert.match(
      r.stdout,
      new RegExp(
        `^ {4}network +dstab-${f.id}-\\S+ +unused network of run run-${f.id} \\(its own run label\\)$`,
        'm',
      ),
    );
    assert.match(r.stdout, /^ {4}not owned by a test run \(1\): container \S+$/m);
    assert.match(r.stdout, /^Dry run: nothing was removed \(5 would be\)\.$/m);
  });

  it('takes its defaults from the config file\'s "cleanup" section, and a flag wins over it', async () => {
    const config = join(lockDir, 'config.json');
    writeFileSync(
      config,
      JSON.stringify({ cleanup: { olderThanMs: 10 * 365 * 24 * 3600_000, testProjectPatterns: ['*-test'] } }),
    );
    const scope = ['--label', `${TEST_LABEL}=${f.id}`, '--lock-dir', lockDir, '--config', config];
    const young = await cli(['cleanup', '--dry-run', '--json', ...scope]);
    assert.equal(young.code, 0, young.stderr);
    const fromConfig = JSON.parse(young.stdout) as { removed: JsonEntry[]; kept: JsonEntry[] };
    assert.deepEqual(fromConfig.removed, [], "the config's ten-year age floor keeps everything");
    assert.ok(
      fromConfig.kept.some((e) => owned.includes(e.id) && /younger than/.test(e.reason)),
      JSON.stringify(fromConfig.kept),
    );
    const flag = await cli(['cleanup', '--dry-run', '--json', ...scope, '--older-than', '0s']);
    assert.equal(flag.code, 0, flag.stderr);
    assert.deepEqual(
      (JSON.parse(flag.stdout) as { removed: JsonEntry[] }).removed.map((e) => e.id).sort(),
      [...owned].sort(),
    );
  });

  it('refuses a config whose cleanup section it cannot use, with exit 64, naming the key', async () => {
    const config = join(lockDir, 'bad-config.json');
    writeFileSync(config, JSON.stringify({ cleanup: { olderThan: 5 } }));
    const unknown = await cli(['cleanup', '--dry-run', '--config', config]);
    assert.equal(unknown.code, 64);
    assert.match(
      unknown.stderr,
      /config cleanup\.olderThan is not a setting \(use olderThanMs, includeImages, testProjectPatterns, protectLabel\)/,
    );
    writeFileSync(config, JSON.stringify({ cleanup: { olderThanMs: '10m' } }));
    const wrong = await cli(['cleanup', '--dry-run', '--config', config]);
    assert.equal(wrong.code, 64);
    assert.match(
      wrong.stderr,
      /config cleanup\.olderThanMs must be a number of milliseconds >= 0 \(got "10m"\)/,
    );
  });

  it('waits for a cleanup another process holds, and exits 3 when it holds on too long', async () => {
    const locks = new LockManager({ dir: lockDir });
    const handle = await locks.acquire(cleanupLockName((await f.client.identity()).id), {
      why: 'test holds the cleanup lock',
    });
    try {
      const r = await cli(['cleanup', '--json', '--lock-timeout', '1s', ...scopeArgs]);
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, /another cleanup of this daemon is running/);
      assert.equal((await remaining()).size, owned.length + 1, 'nothing removed');
    } finally {
      await handle.release();
    }
  });

  it('removes exactly what the dry run listed', async () => {
    const r = await cli(['cleanup', '--json', ...scopeArgs]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { dryRun: boolean; removed: JsonEntry[]; failed: JsonEntry[] };
    assert.equal(out.dryRun, false);
    assert.deepEqual(out.removed.map((e) => e.id).sort(), [...owned].sort());
    assert.deepEqual(out.failed, []);
    assert.deepEqual([...(await remaining())], [unowned]);
  });

  it('exits 2 with the endpoint named when Docker is not reachable', async () => {
    const r = await cli(['cleanup', '--host', `unix://${join(lockDir, 'no-such.sock')}`]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Docker is not reachable at unix:\/\/.*no-such\.sock/);
  });

  it('rejects bad options with exit 64 and a clear message', async () => {
    const bad = await cli(['cleanup', '--older-than', 'soon']);
    assert.equal(bad.code, 64);
    assert.match(bad.stderr, /--older-than: invalid duration "soon"/);
    const label = await cli(['cleanup', '--label', 'novalue']);
    assert.equal(label.code, 64);
    assert.match(label.stderr, /--label expects key=value/);
    const pattern = await cli(['cleanup', '--test-project', ' ']);
    assert.equal(pattern.code, 64);
    assert.match(pattern.stderr, /testProjectPatterns must be non-empty globs/);
  });
});
