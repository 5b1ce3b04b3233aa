import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DockerFixture } from '../helpers/docker';
import { run } from '../helpers/run';

const CLI = resolve(__dirname, '../../../dist/cli.js');
const KINDS = ['memory', 'cpu', 'containers', 'networks', 'volumes'] as const;
const LEVEL_NAMES = ['SAFE', 'WARNING', 'CRITICAL', 'EMERGENCY'];

/** Capacities no machine here reaches: every resource SAFE at its real load. */
const UNREACHABLE_CAPACITIES = {
  containers: 1_000_000,
  networks: 1_000_000,
  volumes: 1_000_000,
  memoryBytes: 1e18,
  cpuPercent: 1e9,
};

describe('docker-stability status (CLI)', function () {
  this.timeout(30_000);
  const fx = new DockerFixture();
  const dir = mkdtempSync(join(tmpdir(), 'dstab-status-'));
  // A clean environment: the machine's DOCKER_* or config must not pick the endpoint.
  const env = { PATH: process.env.PATH, HOME: dir, DOCKER_STABILITY_HOME: dir };
  const status = (args: string[], extraEnv: Record<string, string> = {}) =>
    run('node', [CLI, 'status', ...args], { env: { ...env, ...extraEnv } });
  const config = (name: string, monitor: unknown): string => {
    const f = join(dir, name);
    writeFileSync(f, JSON.stringify({ monitor }));
    return f;
  };

  before(async () => {
    assert.ok(existsSync(CLI), `${CLI} is missing: run npm run build first`);
    await fx.container({ start: false }); // at least one container exists while these tests run
  });
  after(async () => {
    await fx.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('--json prints one sample with endpoint, level, sampledAt and every resource figure', async () => {
    const r = await status(['--json']);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as Record<string, unknown> & {
      resources: Record<string, Record<string, unknown>>;
    };
    assert.equal(s.endpoint, 'unix:///var/run/docker.sock');
    assert.ok(LEVEL_NAMES.includes(s.level as string), `level ${String(s.level)}`);
    assert.ok(
      Math.abs(Date.parse(s.sampledAt as string) - Date.now()) < 30_000,
      'sampledAt is an ISO time of now',
    );
    for (const k of KINDS) {
      const f = s.resources[k];
      assert.ok(f, `resources.${k}`);
      for (const n of ['used', 'capacity', 'percent'])
        assert.equal(typeof f[n], 'number', `resources.${k}.${n}`);
      assert.ok(LEVEL_NAMES.includes(f.level as string), `resources.${k}.level`);
    }
    assert.ok((s.resources.containers?.used as number) >= 1, 'our container is counted');
    assert.equal(
      s.resources.networks?.capacity,
      31,
      'networks are measured against the ~31 default address pools',
    );
    assert.ok((s.resources.memory?.capacity as number) > 0 && (s.resources.cpu?.capacity as number) >= 100);
  });

  it('--fail-on exits 1 at or above the level and 0 below it', async () => {
    // one container against a capacity of 1: containers at >= 100% is EMERGENCY
    const full = config('full.json', { capacities: { containers: 1 } });
    const hit = await status(['--config', full, '--fail-on', 'emergency', '--json']);
    assert.equal(hit.code, 1, hit.stderr);
    assert.equal(JSON.parse(hit.stdout).level, 'EMERGENCY');
    assert.match(hit.stderr, /level EMERGENCY is at or above EMERGENCY/);
    assert.equal(
      (await status(['--config', full, '--fail-on', 'WARNING'])).code,
      1,
      'above the level fails too',
    );

    // capacities no machine here reaches: everything SAFE
    const roomy = config('roomy.json', {
      capacities: UNREACHABLE_CAPACITIES,
    });
    const pass = await status(['--config', roomy, '--fail-on', 'WARNING']);
    assert.equal(pass.code, 0, pass.stderr);
    assert.match(pass.stdout, /SAFE/);
  });

  it('applies thresholds from --config (a low warning turns an idle daemon WARNING)', async () => {
    const low = config('low.json', {
      thresholds: { warning: 0, critical: 99, emergency: 99.5 },
      capacities: UNREACHABLE_CAPACITIES,
    });
    const r = await status(['--config', low, '--json', '--fail-on', 'CRITICAL']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).level, 'WARNING');
  });

  it('warns by name about a bad setting and carries on with the default', async () => {
    const bad = config('bad.json', { intervalMs: 1, thresholds: { warning: 'high' } });
    const r = await status(['--config', bad, '--json']);
    assert.equal(r.code, 0);
    assert.match(
      r.stderr,
      /warning: monitor\.intervalMs must be a number from 250 to 3600000 \(got 1\); using 2000/,
    );
    assert.match(
      r.stderr,
      /warning: monitor\.thresholds\.warning must be a number from 0 to 100 \(got "high"\)/,
    );
  });

  it('rejects an unknown --fail-on level and a malformed config with usage exit 64', async () => {
    const r = await status(['--fail-on', 'PANIC']);
    assert.equal(r.code, 64);
    assert.match(r.stderr, /unknown level "PANIC": use one of SAFE, WARNING, CRITICAL, EMERGENCY/);
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{ nope');
    const c = await status(['--config', broken]);
    assert.equal(c.code, 64);
    assert.match(c.stderr, /is not valid JSON/);
  });

  it('an unreachable daemon is one line naming the endpoint, exit 2', async () => {
    const host = `unix://${join(dir, 'missing.sock')}`;
    const r = await status(['--json'], { DOCKER_HOST: host });
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, `docker-stability: Docker is not reachable at ${host}: socket not found\n`);
    const viaFlag = await status(['--host', host]);
    assert.equal(viaFlag.code, 2);
    assert.equal(viaFlag.stderr.trim().split('\n').length, 1);
  });

  it('a hung daemon is reported within the call timeout, exit 2', async () => {
    const sock = join(dir, 'hung.sock');
    const held: import('node:net').Socket[] = [];
    const server = createServer((c) => void held.push(c));
    await new Promise<void>((r) => server.listen(sock, r));
    try {
      const r = await status(['--host', `unix://${sock}`, '--call-timeout', '500']);
      assert.equal(r.code, 2, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(
          `^docker-stability: Docker is not reachable at unix://${sock}: \\w+ timed out after 500 ms\\n$`,
        ),
      );
      assert.ok(r.ms < 5000, `took ${r.ms} ms`);
    } finally {
      held.forEach((c) => c.destroy());
      await new Promise((r) => server.close(r));
    }
  });
});
