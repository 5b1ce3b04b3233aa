import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { checkCompose, isTestFile } from '../../../src/core/compose/index';
import { LEGACY_SERVICE_KEYS, SERVICE_KEYS, TOP_LEVEL_KEYS } from '../../../src/core/compose/keys';

const rules = (text: string, file = 'compose.yaml'): string[] => checkCompose(text, file).map((f) => f.rule);
const STD =
  '    init: true\n    restart: "no"\n    healthcheck: {test: ["CMD", "true"], interval: 10s, timeout: 5s, retries: 5, start_period: 30s}\n    deploy: {resources: {limits: {memory: 512M, cpus: "0.25"}, reservations: {memory: 256M}}}\n    logging: {driver: json-file, options: {max-size: 10m, max-file: "3"}}\n';

describe('compose check sees what compose sees', () => {
  it('Compose v2 syntax is valid: !reset, !override, hooks, develop, include, models, pull_refresh_after', () => {
    const text =
      'name: demo\ninclude:\n  - path: ./other.yml\nmodels:\n  llm: {model: ai/smollm2}\nservices:\n  app:\n' +
      STD +
      '    image: busybox:1.36\n    post_start:\n      - command: ["echo", "started"]\n    pre_stop:\n      - command: ["echo", "stopping"]\n' +
      '    develop:\n      watch:\n        - {path: ./src, action: sync, target: /app}\n    models: [llm]\n    pull_refresh_after: daily\n' +
      '    environment: !override\n      A: "1"\n    ports: !reset []\n    labels: !reset null\n';
    assert.deepEqual(
      checkCompose(text, 'compose.yaml').map((f) => `${f.rule}: ${f.message}`),
      [],
    );
  });

  it('pre_start is not a hook of the Compose Specification (its schema has post_start and pre_stop): an unknown key', () => {
    assert.ok(SERVICE_KEYS.has('post_start') && SERVICE_KEYS.has('pre_stop'));
    assert.ok(!SERVICE_KEYS.has('pre_start'));
    const text =
      'services:\n  app:\n' + STD + '    image: busybox:1.36\n    pre_start:\n      - command: ["true"]\n';
    const found = checkCompose(text, 'compose.yaml').filter((f) => f.rule === 'unknown-key');
    assert.deepEqual(
      found.map((f) => [f.message.split(':')[0], f.fix]),
      [
        [
          'unknown key "pre_start" in service "app" (the specification has no pre_start hook, only post_start and pre_stop)',
          undefined,
        ],
      ],
    );
    // Without a restart key in the service, the nearest spelling ("restart") is still not offered.
    const bare = checkCompose(
      'services:\n  app:\n    image: busybox:1.36\n    pre_start: []\n',
      'compose.yaml',
    );
    assert.equal(bare.find((f) => f.rule === 'unknown-key')?.fix, undefined);
  });

  it('the key table covers every service and top-level key of the schemas docker-compose 1.29 ships', function () {
    const dir = '/usr/lib/python3/dist-packages/compose/config';
    if (!existsSync(`${dir}/compose_spec.json`)) this.skip();
    const spec = JSON.parse(readFileSync(`${dir}/compose_spec.json`, 'utf8')) as {
      properties: object;
      definitions: { service: { properties: object } };
    };
    const v1 = JSON.parse(readFileSync(`${dir}/config_schema_v1.json`, 'utf8')) as {
      definitions: { service: { properties: object } };
    };
    assert.deepEqual(
      Object.keys(spec.definitions.service.properties).filter((k) => !SERVICE_KEYS.has(k)),
      [],
    );
    assert.deepEqual(
      Object.keys(spec.properties).filter((k) => !TOP_LEVEL_KEYS.has(k)),
      [],
    );
    assert.deepEqual(
      Object.keys(v1.definitions.service.properties).filter((k) => !LEGACY_SERVICE_KEYS.has(k)),
      [],
    );
  });

  it('an unknown-key quick fix never renames onto a key that is valid there already', () => {
    const findings = checkCompose(
      'services:\n  app:\n' + STD + '    image: busybox\n    imgae: busybox\n    pull_refresh_after: daily\n',
      'compose.yaml',
    );
    assert.deepEqual(
      findings.map((f) => [f.rule, f.message.split(':')[0], f.fix?.title]),
      [['unknown-key', 'unknown key "imgae" in service "app" (did you mean "image"?)', undefined]],
    );
  });

  it('test files by word, not by letters; globs replace the word rule', () => {
    for (const f of [
      '/p/docker-compose.test.yml',
      '/p/compose.ci.yaml',
      '/p/test/compose.yml',
      '/p/e2e/docker-compose.yml',
      '/p/it/compose.yaml',
      '/p/docker-compose.integration.yml',
    ])
      assert.equal(isTestFile(f), true, f);
    for (const f of [
      '/p/docker-compose.latest.yml',
      '/p/contest/compose.yml',
      '/p/docker-compose.yml',
      '/home/ci/work/project/deploy/compose.yml',
    ])
      assert.equal(isTestFile(f), false, f);
    assert.equal(isTestFile('/p/stacks/qa.yml', ['**/stacks/qa.yml']), true);
    assert.equal(isTestFile('/p/docker-compose.test.yml', ['*.qa.{yml,yaml}']), false);
    const restart = 'services:\n  app:\n    image: busybox\n    restart: always\n';
    assert.ok(
      !checkCompose(restart, '/p/docker-compose.latest.yml').some((f) => f.rule === 'restart-in-test'),
    );
    assert.ok(
      checkCompose(restart, '/p/qa/stack.yml', { testGlobs: ['qa/*.yml'] }).some(
        (f) => f.rule === 'restart-in-test',
      ),
    );
  });

  it('tmpfs size=0 is unlimited: an error in a test file, like no size', () => {
    const f = checkCompose(
      'services:\n  app:\n' + STD + '    image: busybox\n    tmpfs: ["/a:size=0", "/b:size=64m"]\n',
      '/p/docker-compose.test.yml',
    ).filter((x) => x.rule === 'tmpfs');
    assert.deepEqual(
      f.map((x) => x.severity),
      ['error', 'info'],
    );
  });

  it('a file with hundreds of merge keys is checked (no "Excessive alias count"), and a billion laughs costs its size', () => {
    const base = Array.from({ length: 40 }, (_, i) => `  k${i}: v${i}`).join('\n');
    const services = Array.from(
      { length: 300 },
      (_, i) => `  s${i}:\n    <<: *std\n    environment:\n      <<: *env\n    image: busybox`,
    ).join('\n');
    const text = `x-std: &std\n${STD.replace(/^ {4}/gm, '  ')}x-env: &env\n${base}\nservices:\n${services}\n`;
    const findings = checkCompose(text, 'compose.yaml');
    assert.deepEqual(
      findings.map((f) => f.message).filter((m) => /internal error|alias/i.test(m)),
      [],
    );
    assert.deepEqual(findings, [], 'every service has the standard through its merge key');
    const laughs = ['x-a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
    for (let i = 1; i < 9; i++)
      laughs.push(
        `x-${i}: &l${i} [${Array(10)
          .fill(i === 1 ? '*a' : `*l${i - 1}`)
          .join(', ')}]`,
      );
    const bomb = checkCompose(
      `${laughs.join('\n')}\nservices:\n  app:\n${STD}    image: busybox\n    labels: {x: "1"}\n    x-lols: *l8\n`,
      'compose.yaml',
    );
    assert.deepEqual(
      bomb.map((f) => f.message),
      [],
      '10^9 expansions are one shared node each',
    );
  });

  it('the legacy version 1 format is read as services, not as unknown top-level keys', () => {
    const found = rules(
      'web:\n  image: busybox\n  command: sleep 1\ndb:\n  image: postgres:9.6\n  command: postgres -c fsync=off\n',
    );
    assert.deepEqual(found, ['legacy-format', 'image-variant', 'postgres-durability']);
    assert.ok(
      !rules('version: "2.4"\nservices:\n  web:\n' + STD + '    image: busybox\n').includes('legacy-format'),
    );
  });
});
