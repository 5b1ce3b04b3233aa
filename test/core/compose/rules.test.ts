import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { checkCompose, RULES, type Finding } from '../../../src/core/compose/index';
import { expectedFindings, fixtureNames, fixturePath, readFixture } from './fixtures';

const readFile = (p: string): string | undefined => (existsSync(p) ? readFileSync(p, 'utf8') : undefined);

function check(name: string, text = readFixture(name), opts = {}): Finding[] {
  return checkCompose(text, fixturePath(name), { readFile, ...opts });
}

const key = (f: { rule: string; line: number; column: number; endLine: number; endColumn: number }): string =>
  `${f.rule} ${f.line}:${f.column}-${f.endLine}:${f.endColumn}`;

describe('compose rules', () => {
  for (const name of fixtureNames().filter((n) => n !== 'not-a-mapping.yml')) {
    it(`${name}: reports exactly the findings its # expect comments declare, at their exact ranges`, () => {
      const text = readFixture(name);
      const actual = check(name, text).map(key).sort();
      const expected = expectedFindings(text).map(key).sort();
      assert.deepEqual(actual, expected);
    });
  }

  it('every rule fires in at least one fixture (no rule goes untested)', () => {
    const fired = new Set(fixtureNames().flatMap((n) => check(n).map((f) => f.rule)));
    assert.deepEqual(
      Object.keys(RULES).filter((r) => !fired.has(r)),
      [],
    );
  });

  it('a top level that is not a mapping is one compose-structure error spanning the document', () => {
    const findings = check('not-a-mapping.yml');
    assert.deepEqual(
      findings.map((f) => [f.rule, f.severity, f.line, f.column, f.endLine]),
      [['compose-structure', 'error', 1, 1, 3]],
    );
  });

  it('severity: tmpfs without a size is an error in a test file, a warning elsewhere, info when sized', () => {
    const test = check('docker-compose.test.yml').filter((f) => f.rule === 'tmpfs');
    assert.deepEqual(
      test.map((f) => f.severity),
      ['error', 'info'],
    );
    const dev = check('tmpfs-volumes.yml').filter((f) => f.rule === 'tmpfs');
    assert.deepEqual(
      dev.map((f) => f.severity),
      ['warning', 'info', 'warning', 'info'],
    );
  });

  it('fileKind overrides the file name: the test-only rules stay silent for dev and fire for test', () => {
    const testOnly = ['restart-in-test', 'fixed-container-name', 'fixed-host-port'];
    const asDev = check('docker-compose.test.yml', undefined, { fileKind: 'dev' }).filter((f) =>
      testOnly.includes(f.rule),
    );
    assert.equal(asDev.length, 0);
    const asTest = check('wordpress.yml', undefined, { fileKind: 'test' }).filter((f) =>
      testOnly.includes(f.rule),
    );
    assert.deepEqual(asTest.map((f) => f.rule).sort(), [
      'fixed-container-name',
      'fixed-host-port',
      'restart-in-test',
      'restart-in-test',
    ]);
  });

  it('on a private daemon PostgreSQL durability shortcuts are not reported', () => {
    const findings = check('docker-compose.test.yml', undefined, { sharedEnvironment: false });
    assert.equal(findings.filter((f) => f.rule === 'postgres-durability').length, 0);
    assert.ok(findings.some((f) => f.rule === 'tmpfs'));
  });

  it('without a way to read extends.file, a service extending another file is not judged on what it lacks', () => {
    const text = readFixture('extends-user.test.yml');
    const findings = checkCompose(text, fixturePath('extends-user.test.yml'));
    assert.equal(findings.filter((f) => f.service === 'api').length, 0);
  });

  it('an extends file that cannot be read leaves the service unjudged instead of failing', () => {
    const text = 'services:\n  api:\n    extends: {file: missing.yml, service: x}\n    image: busybox\n';
    assert.deepEqual(checkCompose(text, fixturePath('x.yml'), { readFile }), []);
  });

  it('findings carry the service name and offsets that match their line and column', () => {
    const text = readFixture('docker-compose.test.yml');
    const lines = text.split('\n');
    for (const f of check('docker-compose.test.yml', text)) {
      assert.ok(f.service, `${f.rule} has a service`);
      const lineStart = lines.slice(0, f.line - 1).reduce((n, l) => n + l.length + 1, 0);
      assert.equal(f.offset, lineStart + f.column - 1, `${f.rule} offset`);
    }
  });

  describe('never throws', () => {
    const nasty: Array<[string, string]> = [
      ['empty file', ''],
      ['only a comment', '# nothing\n'],
      ['a scalar', 'hello\n'],
      ['services is a list', 'services:\n  - web\n'],
      ['a null service', 'services:\n  web:\n'],
      ['tabs', 'services:\n\tweb:\n\t\timage: x\n'],
      ['an unclosed quote', 'services:\n  web:\n    image: "nginx\n'],
      ['an alias to nothing', 'services:\n  web: *missing\n'],
      ['a self-extending service', 'services:\n  web:\n    extends: web\n    image: x\n'],
      ['numbers as keys', 'services:\n  1: {image: x}\n  2: [a]\n'],
      ['a binary blob', '\u0000\u0001\u0002'],
      [
        'a huge alias expansion',
        'a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nservices: {}\n',
      ],
    ];
    for (const [what, text] of nasty) {
      it(`${what}: findings, not an exception`, () => {
        const findings = checkCompose(text, 'docker-compose.yml');
        assert.ok(Array.isArray(findings));
        for (const f of findings) assert.ok(f.line >= 1 && f.column >= 1 && f.message.length > 0);
      });
    }

    it('an empty file is one compose-structure error', () => {
      assert.deepEqual(
        checkCompose('', 'x.yml').map((f) => f.rule),
        ['compose-structure'],
      );
    });

    it('a null service is a compose-structure error on its key', () => {
      const f = checkCompose('services:\n  web:\n', 'x.yml');
      assert.deepEqual(
        f.map((x) => [x.rule, x.line, x.column]),
        [['compose-structure', 2, 3]],
      );
    });
  });
});
