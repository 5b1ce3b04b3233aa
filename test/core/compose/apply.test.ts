import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import {
  checkCompose,
  overridePath,
  planApply,
  runCompose,
  writeApply,
} from '../../../src/core/compose/index';
import { at, FIXTURES, leaves } from './fixtures';

/** `compose config` output as data: what compose will actually run. */
async function merged(files: string[]): Promise<Record<string, Record<string, unknown>>> {
  const r = await runCompose(files, ['config']);
  assert.equal(r.code, 0, r.stderr);
  return (parse(r.stdout) as { services: Record<string, Record<string, unknown>> }).services;
}

describe('compose apply', function () {
  this.timeout(120_000);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dstab-compose-apply-'));
    cpSync(FIXTURES, dir, { recursive: true });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('override: names the file <name>.stability.yml next to it and leaves the user file untouched', async () => {
    const file = join(dir, 'docker-compose.test.yml');
    const original = readFileSync(file, 'utf8');
    const plan = await planApply(file);
    assert.equal(plan.mode, 'override');
    assert.equal(plan.targetFile, join(dir, 'docker-compose.test.stability.yml'));
    assert.equal(plan.targetFile, overridePath(file));
    assert.equal(plan.variant, 'test');
    assert.equal(plan.before, '');
    assert.match(
      plan.diff,
      /^--- \/dev\/null\n\+\+\+ .*docker-compose\.test\.stability\.yml\n@@ -0,0 \+1,\d+ @@\n/,
    );
    const result = await writeApply(plan);
    assert.equal(result.written, plan.targetFile);
    assert.equal(result.backup, undefined);
    assert.equal(readFileSync(file, 'utf8'), original);
    assert.equal(readFileSync(plan.targetFile, 'utf8'), plan.after);
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.includes('candidate') || f.endsWith('.tmp')),
      [],
      'no temporary file left',
    );
  });

  it('override: compose keeps every value the user set and adds the standard only where missing', async () => {
    const file = join(dir, 'docker-compose.test.yml');
    const plan = await planApply(file);
    await writeApply(plan);
    const [userOnly, withOverride] = [await merged([file]), await merged([file, plan.targetFile])];
    for (const [name, service] of Object.entries(userOnly)) {
      for (const [path, value] of leaves(service))
        assert.deepEqual(at(withOverride[name], path), value, `${name}.${path} kept`);
    }
    const redis = withOverride.redis as Record<string, unknown>;
    assert.deepEqual(at(redis, 'deploy.resources'), {
      limits: { memory: '512M', cpus: 0.25 },
      reservations: { memory: '256M' },
    });
    assert.equal(redis.init, true);
    assert.equal(redis.restart, 'no');
    assert.deepEqual(at(redis, 'healthcheck.test'), ['CMD', 'redis-cli', 'ping']);
    assert.deepEqual(at(redis, 'logging'), {
      driver: 'json-file',
      options: { 'max-size': '10m', 'max-file': '3' },
    });
    const db = withOverride.db as Record<string, unknown>;
    assert.equal(at(db, 'healthcheck.interval'), '2s', 'the user interval wins');
    assert.equal(at(db, 'healthcheck.timeout'), '5s');
    assert.equal(db.restart, 'unless-stopped', 'apply never overrides; `check` reports it');
    const app = withOverride.app as Record<string, unknown>;
    assert.equal(at(app, 'deploy.resources.limits.memory'), '1G');
    assert.equal(at(app, 'deploy.resources.reservations.memory'), '256M');
    assert.equal(at(app, 'logging.options.max-size'), '20m');
    assert.equal(at(app, 'logging.options.max-file'), undefined, 'rotation already set: nothing added');
  });

  it('override: the merged result no longer has missing-standard findings', async () => {
    const file = join(dir, 'wordpress.yml');
    await writeApply(await planApply(file));
    const r = await runCompose([file, overridePath(file)], ['config']);
    const rules = checkCompose(r.stdout, 'merged.yml').map((f) => `${f.rule}:${f.service}`);
    assert.deepEqual(
      rules,
      ['healthcheck:wordpress'],
      'only what apply cannot know: a probe for an unknown image',
    );
  });

  it('override: regenerated from the user file alone, so applying twice changes nothing', async () => {
    const file = join(dir, 'sentry-anchors.yml');
    await writeApply(await planApply(file));
    const again = await planApply(file);
    assert.equal(again.diff, '');
    assert.deepEqual(await writeApply(again), { written: '' });
  });

  it('override: a stale override is replaced, with a backup of the previous one', async () => {
    const file = join(dir, 'legacy-v2.yml');
    writeFileSync(overridePath(file), 'services: {es: {mem_limit: 2g}}\n');
    const plan = await planApply(file);
    assert.match(plan.diff, /^-services: \{es: \{mem_limit: 2g\}\}$/m);
    const result = await writeApply(plan);
    assert.equal(result.backup, `${overridePath(file)}.bak`);
    assert.equal(readFileSync(result.backup as string, 'utf8'), 'services: {es: {mem_limit: 2g}}\n');
    const services = await merged([file, overridePath(file)]);
    assert.equal(
      at(services.es, 'mem_limit'),
      '512m',
      'a 2.4-format file merges with the version-less override',
    );
    assert.equal(at(services.kibana, 'deploy.resources.limits.memory'), '512M');
  });

  it('override: a stale override becomes one that adds nothing (and that compose v1 still merges) once the user file meets the standard', async () => {
    const file = join(dir, 'compliant.test.yml');
    writeFileSync(overridePath(file), 'services: {db: {init: true}}\n');
    const plan = await planApply(file);
    assert.deepEqual(parse(plan.after), { services: { db: {}, 'one-off': {} } });
    await writeApply(plan);
  });

  it('in place: only adds lines; every original line, comment and blank line stays, in order', async () => {
    const file = join(dir, 'docker-compose.test.yml');
    const original = readFileSync(file, 'utf8');
    const plan = await planApply(file, { inPlace: true });
    assert.equal(plan.targetFile, file);
    const body = plan.diff.split('\n').slice(2);
    assert.ok(!body.some((l) => l.startsWith('-')), 'no line removed or changed');
    const afterLines = plan.after.split('\n');
    let i = 0;
    for (const line of original.split('\n')) {
      while (i < afterLines.length && afterLines[i] !== line) i++;
      assert.ok(i < afterLines.length, `original line kept: ${line}`);
      i++;
    }
    const result = await writeApply(plan);
    assert.equal(result.backup, `${file}.bak`);
    assert.equal(readFileSync(`${file}.bak`, 'utf8'), original);
    const left = checkCompose(readFileSync(file, 'utf8'), file).filter((f) =>
      ['resource-limits', 'log-rotation', 'healthcheck'].includes(f.rule),
    );
    assert.deepEqual(
      left.map((f) => `${f.rule}:${f.service}`),
      ['healthcheck:app'],
      'only a probe apply cannot know (app is built locally)',
    );
    assert.equal((await planApply(file, { inPlace: true })).diff, '', 'idempotent');
  });

  it('in place: flow mappings, anchors and merge keys get valid additions', async () => {
    for (const name of ['flow-style.test.yml', 'sentry-anchors.yml', 'extends-user.test.yml']) {
      const file = join(dir, name);
      const plan = await planApply(file, { inPlace: true });
      await writeApply(plan);
      const services = await merged([file]);
      for (const [svc, cfg] of Object.entries(services))
        assert.ok(
          at(cfg, 'deploy.resources.limits.cpus') ?? at(cfg, 'cpus'),
          `${name} ${svc} has a CPU limit`,
        );
    }
  });

  it('extends: what a service inherits counts as set (extends-base gives the memory limit, apply adds cpus and the reservation)', async () => {
    const plan = await planApply(join(dir, 'extends-user.test.yml'));
    const override = parse(plan.after) as { services: Record<string, unknown> };
    assert.deepEqual(at(override.services.api, 'deploy.resources'), {
      limits: { cpus: '0.25' },
      reservations: { memory: '256M' },
    });
    assert.equal(at(override.services.api, 'healthcheck.timeout'), '5s');
    assert.equal(at(override.services['local-child'], 'logging'), undefined, 'inherits the local driver');
  });

  it('variants: test gives restart "no" and durable PostgreSQL; dev gives on-failure:3 and leaves the command alone', async () => {
    const file = join(dir, 'pg.yml');
    writeFileSync(file, 'services:\n  db:\n    image: postgres:16\n');
    const test = parse((await planApply(file, { variant: 'test' })).after) as {
      services: { db: Record<string, unknown> };
    };
    assert.equal(test.services.db.restart, 'no');
    assert.deepEqual(test.services.db.command, [
      'postgres',
      '-c',
      'fsync=on',
      '-c',
      'synchronous_commit=on',
      '-c',
      'shared_buffers=128MB',
    ]);
    const dev = parse((await planApply(file, { variant: 'dev' })).after) as {
      services: { db: Record<string, unknown> };
    };
    assert.equal(dev.services.db.restart, 'on-failure:3');
    assert.equal(dev.services.db.command, undefined);
    assert.equal((await planApply(file)).variant, 'dev', 'auto: no "test" in the name');
  });

  it('an invalid result writes nothing and says why', async () => {
    const file = join(dir, 'wordpress.yml');
    const plan = await planApply(file);
    await assert.rejects(
      writeApply({ ...plan, after: 'services:\n  wordpress:\n    mem_limit: [oops]\n' }),
      /the result does not validate, nothing was written: .*mem_limit/s,
    );
    assert.ok(!existsSync(plan.targetFile));
  });

  it('a user file compose already rejects: nothing written, and the error blames the file, not the change', async () => {
    const file = join(dir, 'bad-env.yml');
    writeFileSync(file, 'services:\n  web:\n    image: busybox\n    env_file: missing.env\n');
    await assert.rejects(writeApply(await planApply(file)), /bad-env\.yml does not validate even as it is/);
    assert.ok(!existsSync(overridePath(file)));
  });

  it('a target changed after planning is not overwritten', async () => {
    const file = join(dir, 'wordpress.yml');
    const plan = await planApply(file, { inPlace: true });
    writeFileSync(file, readFileSync(file, 'utf8') + '# edited meanwhile\n');
    await assert.rejects(writeApply(plan), /changed since the plan was made/);
    assert.match(readFileSync(file, 'utf8'), /# edited meanwhile/);
  });

  describe('refuses with a clear error', () => {
    const cases: Array<[string, string, RegExp]> = [
      ['malformed YAML', 'malformed.yml', /malformed\.yml:5:3: invalid YAML/],
      ['several documents', 'multi-doc.yml', /holds 2 YAML documents/],
      ['a top level that is not a mapping', 'not-a-mapping.yml', /not a mapping/],
      ['a missing file', 'nope.yml', /compose file not found/],
      ['a generated override', 'x.stability.yml', /is a generated override/],
    ];
    for (const [what, name, error] of cases) {
      it(what, async () => {
        await assert.rejects(planApply(join(dir, name)), error);
      });
    }
  });
});
