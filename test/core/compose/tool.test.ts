import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectComposeTool, validateWithCompose } from '../../../src/core/compose/index';
import { resolveExecutable } from '../../../src/core/compose/tool';

describe('compose tool', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'dstab-compose-tool-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('detects the installed compose: v1 docker-compose 1.29.2 on this machine (no v2 plugin)', async () => {
    const tool = await detectComposeTool();
    assert.deepEqual(tool, { kind: 'v1', command: [resolveExecutable('docker-compose')], version: '1.29.2' });
    assert.match(
      tool?.command[0] ?? '',
      /^\/.*\/docker-compose$/,
      'an absolute path, never looked up in the project folder',
    );
  });

  it('on Windows the tool is resolved on absolute PATH entries only, never in the working (compose) folder', () => {
    const exists = new Set([
      'C:\\repo\\docker.exe',
      'C:\\Program Files\\Docker\\docker.EXE',
      'C:\\repo\\docker-compose.bat',
    ]);
    const isFile = (p: string): boolean => exists.has(p);
    const env = { Path: '.;repo;"C:\\Program Files\\Docker";C:\\tools', PATHEXT: '.COM;.EXE;.BAT' };
    assert.equal(
      resolveExecutable('docker', { platform: 'win32', env, isFile }),
      'C:\\Program Files\\Docker\\docker.EXE',
    );
    assert.equal(resolveExecutable('docker-compose', { platform: 'win32', env, isFile }), undefined);
    assert.equal(
      resolveExecutable('docker', {
        platform: 'linux',
        env: { PATH: ':.:bin:/usr/bin' },
        isFile: (p) => p === '/usr/bin/docker' || p === 'bin/docker',
      }),
      '/usr/bin/docker',
    );
  });

  it('validates a good file and explains a bad one in compose’s own words', async () => {
    const good = join(dir, 'good.yml');
    writeFileSync(good, 'services:\n  a:\n    image: busybox\n');
    assert.deepEqual(await validateWithCompose([good]), { ok: true });
    const bad = join(dir, 'bad.yml');
    writeFileSync(bad, 'services:\n  a:\n    image: busybox\n    ports: 80\n');
    const r = await validateWithCompose([bad]);
    assert.equal(r.ok, false);
    assert.match(r.error ?? '', /ports/);
  });

  it('reports a missing tool as a failed validation, not a crash', async () => {
    const r = await validateWithCompose([join(dir, 'x.yml')], {
      kind: 'v1',
      command: ['/nonexistent/docker-compose'],
      version: '0',
    });
    assert.equal(r.ok, false);
    assert.match(r.error ?? '', /nonexistent/);
  });
});
