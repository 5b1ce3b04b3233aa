import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerClient } from '../../src/core/docker/client';
import { parseHost } from '../../src/core/docker/endpoint';
import { findComposeFiles, runDoctor } from '../../src/core/doctor';
import { testClient } from '../helpers/docker';

describe('doctor', function () {
  this.timeout(30_000);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dstab-doctor-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('passes the endpoint, engine, lock folder and level checks on a healthy local engine', async () => {
    const checks = await runDoctor({ client: testClient(), lockDir: join(dir, 'locks'), workspaceDirs: [] });
    const byName = new Map(checks.map((c) => [c.name, c]));
    for (const name of ['endpoint', 'engine', 'lock folder', 'locks'])
      assert.equal(byName.get(name)?.status, 'pass', `${name}: ${byName.get(name)?.detail}`);
    assert.match(byName.get('engine')?.detail ?? '', /API 1\.\d+/);
    assert.ok(byName.has('level') && byName.has('orphans') && byName.has('compose tool'));
  });

  it('fails with the reason and a fix when the daemon is not reachable, and skips daemon checks', async () => {
    const client = new DockerClient(parseHost(`unix://${join(dir, 'nope.sock')}`, 'test'), {
      timeoutMs: 1000,
    });
    const checks = await runDoctor({ client, lockDir: join(dir, 'locks') });
    const ep = checks.find((c) => c.name === 'endpoint');
    assert.equal(ep?.status, 'fail');
    assert.match(ep?.detail ?? '', /not reachable at unix:\/\/.*nope\.sock.*socket not found/);
    assert.deepEqual(ep?.remedy, { action: 'start-daemon', params: { endpoint: client.endpoint.host } });
    assert.equal(
      checks.find((c) => c.name === 'level'),
      undefined,
    );
  });

  it('flags a workspace compose file with a tmpfs mount, and ignores generated overrides', async () => {
    writeFileSync(
      join(dir, 'docker-compose.test.yml'),
      'services:\n  db:\n    image: postgres:16\n    tmpfs: /var/lib/postgresql/data\n',
    );
    writeFileSync(join(dir, 'docker-compose.test.stability.yml'), 'services: {}\n');
    writeFileSync(join(dir, 'notes.yml'), 'a: 1\n');
    assert.deepEqual(await findComposeFiles([dir]), [join(dir, 'docker-compose.test.yml')]);
    const checks = await runDoctor({
      client: testClient(),
      lockDir: join(dir, 'locks'),
      workspaceDirs: [dir],
    });
    const c = checks.find((x) => x.name.startsWith('compose ') && x.name.endsWith('docker-compose.test.yml'));
    assert.equal(c?.status, 'fail');
    assert.match(c?.detail ?? '', /tmpfs/);
    assert.deepEqual(c?.remedy, {
      action: 'fix-compose',
      params: { file: join(dir, 'docker-compose.test.yml') },
    });
  });

  it('fails the lock folder check when the folder cannot be created', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    const checks = await runDoctor({ client: testClient(), lockDir: join(file, 'locks'), workspaceDirs: [] });
    const c = checks.find((x) => x.name === 'lock folder');
    assert.equal(c?.status, 'fail');
    assert.deepEqual(c?.remedy, {
      action: 'set-setting',
      params: { setting: 'lockFolder', current: join(file, 'locks') },
    });
  });
});
