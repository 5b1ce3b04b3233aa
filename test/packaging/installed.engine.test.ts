// What `npm install docker-stability` installs: the packed tarball alone, with only the packages
// its package.json declares as dependencies. The CLI and the library must run without any of
// the packages their bundles contain, and the type declarations must check against the
// declared dependencies only.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { typecheckConsumer } from './consumer';

const repoRoot = resolve(__dirname, '../../..');

interface Manifest {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

const manifest = (dir: string): Manifest =>
  JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;

/** The folder a package `name` required from `from` resolves to in the repo's install (nested first, then hoisted). */
function packageDir(name: string, from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === repoRoot || dirname(dir) === dir)
      throw new Error(`${name} is not installed (needed by ${from})`);
  }
}

/** A declared dependency and everything it depends on, as installed in the repo. */
function closure(roots: string[]): Map<string, string> {
  const found = new Map<string, string>();
  const queue = roots.map((name) => ({ name, from: repoRoot }));
  for (let next = queue.shift(); next; next = queue.shift()) {
    if (found.has(next.name)) continue;
    const dir = packageDir(next.name, next.from);
    found.set(next.name, dir);
    for (const dep of Object.keys(manifest(dir).dependencies ?? {})) queue.push({ name: dep, from: dir });
  }
  return found;
}

describe('the npm package as installed (tarball plus its declared dependencies)', function () {
  this.timeout(120_000);
  const scratch = mkdtempSync(join(tmpdir(), 'dstab-installed-'));
  const modules = join(scratch, 'node_modules');
  const pkg = join(modules, 'docker-stability');
  const run = (args: string[]) =>
    spawnSync(process.execPath, args, {
      cwd: scratch,
      encoding: 'utf8',
      timeout: 30_000,
      env: { ...process.env, NODE_PATH: '' },
    });

  before(() => {
    const packed = spawnSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', scratch], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(packed.status, 0, packed.stderr);
    const tarball = join(scratch, (JSON.parse(packed.stdout) as { filename: string }[])[0]!.filename);
    mkdirSync(modules);
    const untar = spawnSync('tar', ['-xzf', tarball, '-C', modules], { encoding: 'utf8' });
    assert.equal(untar.status, 0, untar.stderr);
    renameSync(join(modules, 'package'), pkg);
    for (const [name, dir] of closure(Object.keys(manifest(repoRoot).dependencies ?? {}))) {
      mkdirSync(dirname(join(modules, name)), { recursive: true });
      symlinkSync(dir, join(modules, name), 'dir');
    }
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('declares as dependencies only what no bundle contains: type declarations, no run-time package', () => {
    assert.deepEqual(Object.keys(manifest(repoRoot).dependencies ?? {}), ['@types/dockerode']);
    for (const bundled of ['dockerode', 'yaml', 'proper-lockfile', 'chart.js', 'prom-client']) {
      assert.ok(
        manifest(repoRoot).devDependencies?.[bundled],
        `${bundled} should be a devDependency (the bundles contain it)`,
      );
    }
  });

  it('runs the CLI against the real engine with no dockerode, yaml or proper-lockfile installed', () => {
    for (const absent of ['dockerode', 'docker-modem', 'ssh2', 'yaml', 'proper-lockfile'])
      assert.ok(!existsSync(join(modules, absent)), `${absent} is installed`);
    const status = run([join(pkg, 'dist/cli.js'), 'status', '--json']);
    assert.equal(status.status, 0, status.stderr);
    assert.ok(
      Number.isFinite(
        (JSON.parse(status.stdout) as { resources: { containers: { used: number } } }).resources.containers
          .used,
      ),
      status.stdout,
    );
    const ssh = run([join(pkg, 'dist/cli.js'), 'status', '--host', 'ssh://nobody@127.0.0.1:1']);
    assert.equal(ssh.status, 2, ssh.stderr);
    assert.match(ssh.stderr, /not reachable at ssh:\/\/nobody@127\.0\.0\.1:1: connection refused/);
  });

  it('loads the library and talks to the real engine with no dockerode installed', () => {
    const r = run([
      '-e',
      "const d = require('docker-stability'); new d.DockerClient(d.resolveEndpoint()).info().then((i) => console.log(typeof i.ID), (e) => { console.error(e.message); process.exit(1); });",
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'string');
  });

  it('type-checks a consumer against the declarations and the declared dependencies only (skipLibCheck off)', () => {
    const tsc = typecheckConsumer(
      scratch,
      readFileSync(join(repoRoot, 'test/packaging/fixtures/consumer.ts.txt'), 'utf8'),
    );
    assert.equal(tsc.code, 0, tsc.output);
  });
});
