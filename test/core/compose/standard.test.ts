import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { checkCompose, STANDARD, validateWithCompose } from '../../../src/core/compose/index';

const COMPOSE_DIR = resolve(__dirname, '../../../../compose');
const file = (name: string): string => join(COMPOSE_DIR, name);
const load = (name: string): { services: Record<string, Record<string, unknown>> } =>
  parse(readFileSync(file(name), 'utf8'), { merge: true });
const readFile = (p: string): string | undefined => (existsSync(p) ? readFileSync(p, 'utf8') : undefined);

describe('compose standard files', function () {
  this.timeout(120_000);

  it('docker-compose.base.yml holds exactly the numbers of STANDARD (one source of truth)', () => {
    const doc = parse(readFileSync(file('docker-compose.base.yml'), 'utf8'), { merge: true }) as Record<
      string,
      unknown
    >;
    assert.deepEqual(doc['x-stability-healthcheck'], STANDARD.healthcheck);
    assert.deepEqual(doc['x-stability-resources'], STANDARD.resources);
    assert.deepEqual(doc['x-stability-logging'], STANDARD.logging);
    const svc = load('docker-compose.base.yml').services['stability-service'] as Record<string, unknown>;
    assert.equal(svc.init, STANDARD.init);
    assert.equal(svc.restart, STANDARD.restart.test);
    assert.deepEqual(svc.healthcheck, STANDARD.healthcheck);
    assert.deepEqual((svc.deploy as Record<string, unknown>).resources, STANDARD.resources);
    assert.deepEqual(svc.logging, STANDARD.logging);
  });

  it('the dev and test variants carry the variant restart policy; test PostgreSQL is durable and disk-backed', () => {
    const dev = load('docker-compose.dev.yml').services;
    for (const s of Object.values(dev)) assert.equal(s.restart, STANDARD.restart.dev);
    const test = load('docker-compose.test.yml').services;
    for (const s of Object.values(test)) assert.equal(s.restart, STANDARD.restart.test);
    const pg = test['stability-test-postgres'] as Record<string, unknown>;
    const settings = Object.entries(STANDARD.postgres.settings).map(([k, v]) => `${k}=${v}`);
    assert.deepEqual(
      (pg.command as string[]).filter((a) => a !== '-c' && a !== 'postgres'),
      settings,
    );
    assert.deepEqual(pg.volumes, [{ type: 'volume', target: '/var/lib/postgresql/data' }]);
    const text = readFileSync(file('docker-compose.test.yml'), 'utf8');
    assert.doesNotMatch(text.replace(/#.*$/gm, ''), /tmpfs|container_name/);
  });

  it('each standard file passes its own rules', () => {
    for (const name of ['docker-compose.base.yml', 'docker-compose.dev.yml', 'docker-compose.test.yml']) {
      assert.deepEqual(checkCompose(readFileSync(file(name), 'utf8'), file(name), { readFile }), [], name);
    }
  });

  it('each standard file is valid for the installed compose (v1 1.29 here)', async () => {
    for (const name of ['docker-compose.base.yml', 'docker-compose.dev.yml', 'docker-compose.test.yml']) {
      const v = await validateWithCompose([file(name)]);
      assert.ok(v.ok, `${name}: ${v.error}`);
    }
  });

  it('a user file extends the test variant across folders: it inherits the standard and validates', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dstab-compose-std-'));
    try {
      const user = join(dir, 'docker-compose.test.yml');
      writeFileSync(
        user,
        `services:\n  db:\n    extends: {file: ${JSON.stringify(file('docker-compose.test.yml'))}, service: stability-test-postgres}\n` +
          `  api:\n    extends: {file: ${JSON.stringify(file('docker-compose.test.yml'))}, service: stability-test-service}\n    image: busybox:1.36\n    healthcheck: {test: ["CMD", "true"]}\n`,
      );
      assert.deepEqual(checkCompose(readFileSync(user, 'utf8'), user, { readFile }), []);
      const v = await validateWithCompose([user]);
      assert.ok(v.ok, v.error);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
