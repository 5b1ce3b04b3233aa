import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { composeFilesFor, interpolate, judgeComposeFiles, judgeRunMode } from '../../../src/core/runs/mode';
import { CLI } from './helpers';

/** The safe default of a run's mode, judged on compose files written for each case. */
describe('runs: mode from the compose files', function () {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ds-mode-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function write(name: string, text: string): string {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  }
  const service = (body: string): string => `services:\n  web:\n    image: busybox\n${body}`;

  it('is exclusive for a fixed container_name, naming the service and the name', function () {
    write('docker-compose.yml', service('    container_name: fixed-web\n'));
    const j = judgeRunMode(dir, {});
    assert.equal(j.mode, 'exclusive');
    assert.match(j.reason, /service "web" in docker-compose\.yml: container_name "fixed-web" is fixed/);
  });

  it('is exclusive for a fixed short-syntax host port "8080:80"', function () {
    write('compose.yaml', service('    ports: ["8080:80"]\n'));
    const j = judgeRunMode(dir, {});
    assert.equal(j.mode, 'exclusive');
    assert.match(j.reason, /service "web" in compose\.yaml: host port 8080 is fixed/);
  });

  it('is exclusive for a long-syntax published: 8080', function () {
    write('compose.yaml', service('    ports:\n      - target: 80\n        published: 8080\n'));
    const j = judgeRunMode(dir, {});
    assert.equal(j.mode, 'exclusive');
    assert.match(j.reason, /host port 8080 is fixed/);
  });

  it('allows shared for ephemeral ports "80" and "127.0.0.1::80" and no container_name', function () {
    write('compose.yaml', service('    ports: ["80", "127.0.0.1::80"]\n'));
    const j = judgeRunMode(dir, {});
    assert.equal(j.mode, 'shared', j.reason);
    assert.deepEqual(j.causes, []);
    assert.match(j.reason, /no fixed container name or host port in compose\.yaml/);
  });

  it('judges ${PORT:-8080}:80 as compose resolves it: fixed by default, by the .env, ephemeral when PORT is 0', function () {
    write('compose.yaml', service('    ports: ["${PORT:-8080}:80"]\n'));
    assert.equal(judgeRunMode(dir, {}).mode, 'exclusive');
    assert.match(judgeRunMode(dir, {}).reason, /host port 8080 is fixed/);
    assert.equal(judgeRunMode(dir, { PORT: '9090' }).reason.includes('host port 9090'), true);
    assert.equal(judgeRunMode(dir, { PORT: '0' }).mode, 'shared');
    write('.env', 'PORT=0\n');
    assert.equal(judgeRunMode(dir, {}).mode, 'shared');
    // The environment wins over the .env file, as in compose.
    assert.match(judgeRunMode(dir, { PORT: '7070' }).reason, /host port 7070 is fixed/);
  });

  it('finds a container_name and port brought in by a merge key', function () {
    write(
      'compose.yaml',
      'x-fixed: &fixed\n  container_name: shared-db\n  ports: ["5432:5432"]\n' +
        'services:\n  db:\n    <<: *fixed\n    image: postgres\n',
    );
    const j = judgeRunMode(dir, {});
    assert.equal(j.mode, 'exclusive');
    assert.deepEqual(
      j.causes.map((c) => `${c.service}: ${c.what}`),
      ['db: container_name "shared-db" is fixed', 'db: host port 5432 is fixed'],
    );
    assert.match(j.reason, /\(and 1 more\)/);
  });

  it('is exclusive, with one line, for a malformed file and an unreadable one', function () {
    const bad = write('compose.yaml', 'services:\n  web: [unclosed\n');
    const j = judgeComposeFiles([bad], {});
    assert.equal(j.mode, 'exclusive');
    assert.match(j.reason, /^compose\.yaml: is not a valid compose file \(line \d+: /);
    assert.doesNotMatch(j.reason, /\n/);
    const missing = judgeComposeFiles([join(dir, 'gone.yml')], {});
    assert.equal(missing.mode, 'exclusive');
    assert.match(missing.reason, /gone\.yml: cannot be read \(no such file\)/);
  });

  it('reads the override beside the default file, and COMPOSE_FILE instead of the defaults', function () {
    write('docker-compose.yml', service(''));
    write('docker-compose.override.yml', 'services:\n  web:\n    ports: ["8081:80"]\n');
    write('ci.yml', service('    ports: ["80"]\n'));
    assert.deepEqual(composeFilesFor(dir, {}), [
      join(dir, 'docker-compose.yml'),
      join(dir, 'docker-compose.override.yml'),
    ]);
    assert.match(judgeRunMode(dir, {}).reason, /docker-compose\.override\.yml: host port 8081/);
    assert.deepEqual(composeFilesFor(dir, { COMPOSE_FILE: 'ci.yml' }), [join(dir, 'ci.yml')]);
    assert.equal(judgeRunMode(dir, { COMPOSE_FILE: 'ci.yml' }).mode, 'shared');
    write('.env', 'COMPOSE_FILE=ci.yml\n');
    assert.deepEqual(composeFilesFor(dir, {}), [join(dir, 'ci.yml')]);
  });

  it('allows shared where there is no compose file at all', function () {
    const j = judgeRunMode(dir, {});
    assert.equal(j.mode, 'shared');
    assert.deepEqual(j.files, []);
  });

  it('interpolates like compose: defaults, empty, $$ and bare $VAR', function () {
    assert.equal(
      interpolate('${A:-d} ${A-d} ${B:-d} ${B-d} $$X $C ${C:+alt}', { B: '', C: 'c' }),
      'd d d  $$X c alt',
    );
  });

  it('run --dry-run --shared in a folder with a fixed port says exclusive and why (CLI, no engine)', async function () {
    this.timeout(20_000);
    write('docker-compose.yml', service('    ports: ["8080:80"]\n'));
    const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_STABILITY_HOME: dir };
    delete env.COMPOSE_FILE;
    delete env.DOCKER_STABILITY_CONFIG;
    const cli = (args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> =>
      new Promise((res, rej) => {
        const child = spawn(
          process.execPath,
          [CLI, 'run', '--category', 'mode', '--dry-run', ...args, '--', 'true'],
          {
            cwd: dir,
            env,
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        );
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        child.once('error', rej);
        child.once('close', (code) => {
          clearTimeout(timer);
          res({ code, stdout, stderr });
        });
      });
    const plain = await cli(['--shared']);
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(
      plain.stderr,
      /mode exclusive: --shared asked, but service "web" in docker-compose\.yml: host port 8080 is fixed; two runs at once would collide \(--shared --force runs shared anyway\)/,
    );
    const json = await cli(['--shared', '--json']);
    assert.equal((JSON.parse(json.stdout) as { mode: string }).mode, 'exclusive');
    const forced = await cli(['--shared', '--force', '--json']);
    assert.equal((JSON.parse(forced.stdout) as { mode: string }).mode, 'shared');
    assert.match(
      (JSON.parse(forced.stdout) as { note: string }).note,
      /^warning: mode shared \(--shared --force\) although/,
    );
    const configured = join(dir, 'config.json');
    writeFileSync(configured, JSON.stringify({ runs: { modes: { mode: 'shared' } } }));
    const fromConfig = await cli(['--config', configured, '--force']);
    assert.match(fromConfig.stderr, /mode exclusive: runs\.modes\.mode: shared asked, but service "web"/);
  });
});
