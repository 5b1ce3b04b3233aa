import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectComposeTool, validateWithCompose } from '../../src/core/compose/index';

describe('compose tool', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'dstab-compose-tool-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('detects the installed compose: v1 docker-compose 1.29.2 on this machine (no v2 plugin)', async () => {
    const tool = await detectComposeTool();
    assert.deepEqual(tool, { kind: 'v1', command: ['docker-compose'], version: '1.29.2' });
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
    const r = await validateWithCompose([join(dir, 'x.yml')], { kind: 'v1', command: ['/nonexistent/docker-compose'], version: '0' });
    assert.equal(r.ok, false);
    assert.match(r.error ?? '', /nonexistent/);
  });
});
