// The check in parts (one top-level section, one service at a time) against the whole-document
// check: the same findings, positions, messages and fixes on every fixture of the project and on
// generated files with anchors, merge keys, extends, comments, flow maps, block scalars, CRLF,
// and the layouts the parts must refuse (several documents, legacy format, duplicates).
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { checkComposeBy } from '../../../src/core/compose/rules';
import type { CheckOptions, Finding } from '../../../src/core/compose/findings';
import { random } from '../../helpers/random';

/** test/fixtures/compose, from the compiled test folder (out/test/core/compose) or the source one. */
const FIXTURES = [
  resolve(__dirname, '../../../../test/fixtures/compose'),
  resolve(__dirname, '../../fixtures/compose'),
].find((d) => existsSync(d)) as string;

const FILES: Record<string, string> = {
  '/stack/base.yml': 'services:\n  web:\n    image: nginx:1.27\n    tmpfs: /cache\n    restart: always\n',
};
const OPTS: CheckOptions = { readFile: (p) => FILES[p] };

function both(text: string, fileName: string): { whole: Finding[]; parts: Finding[] | undefined } {
  return {
    whole: checkComposeBy('whole', text, fileName, OPTS) as Finding[],
    parts: checkComposeBy('parts', text, fileName, OPTS),
  };
}

/** The parts read by the light parser where it can (what `parts` runs) give what yaml's parts give. */
function assertQuickSame(text: string, label: string): void {
  const fileName = '/stack/docker-compose.test.yml';
  assert.deepEqual(
    checkComposeBy('parts', text, fileName, OPTS),
    checkComposeBy('yaml-parts', text, fileName, OPTS),
    `${label}: light parser against yaml`,
  );
}

/** The parts give what the whole document gives, and `auto` (what checkCompose runs) too. */
function assertSame(text: string, label: string, parts: 'parts' | 'whole'): void {
  for (const fileName of ['/stack/docker-compose.test.yml', '/stack/compose.yaml']) {
    const r = both(text, fileName);
    if (parts === 'parts') {
      assert.ok(r.parts, `${label}: the parts path should apply`);
      assert.deepEqual(r.parts, r.whole, `${label} (${fileName})`);
    } else assert.equal(r.parts, undefined, `${label}: the parts path should refuse this layout`);
    assert.deepEqual(checkComposeBy('auto', text, fileName, OPTS), r.whole, `${label} auto`);
  }
}

/** Service bodies (4-space indented), `NAME` and `PREV` (an earlier service) filled in. */
const BODIES = [
  '    image: postgres:16\n    command: postgres -c fsync=off -c shared_buffers=2GB\n    mem_limit: 1g\n',
  '    <<: *std\n    image: redis:7\n    tmpfs:\n      - /data\n      - /tmp:size=64m\n',
  '    <<: [*std, *db]\n    ports:\n      - "8080:80"\n      - target: 80\n        published: 9090\n',
  '    image: busybox:1.36\n    container_name: NAME-fixed\n    restart: unless-stopped\n    # a comment inside\n    command: |\n      echo one\n\n      echo two\n',
  '    extends: PREV\n    environment:\n      A: "${UNCLOSED"\n',
  '    extends:\n      file: base.yml\n      service: web\n',
  '    extends: {service: LATER}\n',
  '    image: mysql:8\n    deploy:\n      resources:\n        limits: {memory: 256M, cpus: "0.5"}\n        reservations: {memory: 512M}\n',
  '    image: nginx:1.27\n    imagee: typo\n    volumes:\n      - type: tmpfs\n        target: /run\n      - ./data:/data\n',
  '    image: &img node:20\n    entrypoint: ["docker-entrypoint.sh", "-c", "synchronous_commit=off"]\n    logging:\n      driver: json-file\n',
  '    image: *img\n    labels: !reset null\n    environment: !override\n      B: two\n',
  '    &anchored\n    image: python:3.12\n    healthcheck: {test: ["CMD", "true"]}\n',
  '    <<: *anchored\n    script: >-\n      folded\n      text\n\n',
  '    image: alpine:3\n    notes: |+\n      kept\n\n\n',
  '    image: "quoted:1"\n    command: \'single quoted\'\n    deploy: {restart_policy: {condition: any}}\n',
];

function generatedFile(seed: number, services: number): string {
  const rnd = random(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const parts = [
    '# generated',
    'x-std: &std\n  init: true\n  restart: "no"\n  logging: {driver: json-file, options: {max-size: 10m}}',
    'x-db: &db\n  image: postgres:15\n  tmpfs: /var/lib/postgresql/data\n  container_name: db1',
  ];
  if (rnd() < 0.5) parts.push('version: "3.8"');
  if (rnd() < 0.5)
    parts.push('volumes:\n  scratch:\n    driver_opts: {type: tmpfs, device: tmpfs}\n  plain: {}');
  parts.push('services:' + (rnd() < 0.5 ? '  # the services' : ''));
  const names: string[] = [];
  for (let i = 0; i < services; i++) {
    const name = `s${i}`;
    let body = pick(BODIES)
      .replace(/NAME/g, name)
      .replace(/PREV/g, names.length > 0 ? pick(names) : 'missing')
      .replace(/LATER/g, `s${i + 1 + Math.floor(rnd() * 3)}`);
    if (body.includes('*img') && !parts.join('\n').includes('&img')) body = '    image: busybox\n';
    if (body.includes('*anchored') && !parts.join('\n').includes('&anchored')) body = '    image: busybox\n';
    if (rnd() < 0.1) parts.push(`# column-0 comment before ${name}`);
    if (rnd() < 0.1) {
      parts.push(`  ${name}: {image: "redis:7", ports: ["6379:6379"]}`);
    } else if (rnd() < 0.05) parts.push(`  ${name}:`);
    else parts.push(`  ${name}:\n${body.replace(/\n$/, '')}`);
    names.push(name);
  }
  if (rnd() < 0.5) parts.push('networks:\n  default: {}\nunknwon: 1');
  return parts.join('\n') + '\n';
}

describe('compose check in parts gives the whole-document findings', function () {
  this.timeout(120_000);

  it('on every fixture of the project', () => {
    const names = readdirSync(FIXTURES).filter((f) => f.endsWith('.yml'));
    assert.ok(names.length > 10);
    let inParts = 0;
    for (const name of names) {
      const text = readFileSync(join(FIXTURES, name), 'utf8');
      assertQuickSame(text, name);
      assertQuickSame(text.replace(/ +#.*$|^ *#.*\n/gm, ''), `${name} without comments`);
      const r = both(text, join('/stack', name));
      if (r.parts) {
        inParts++;
        assert.deepEqual(r.parts, r.whole, name);
      }
      assert.deepEqual(checkComposeBy('auto', text, join('/stack', name), OPTS), r.whole, `${name} auto`);
    }
    // Most fixtures are laid out as compose files are: the comparison is not vacuous.
    assert.ok(inParts >= names.length / 2, `${inParts} of ${names.length} fixtures in parts`);
  });

  it('on generated files with anchors, merge keys, extends, comments, flow maps and block scalars', () => {
    for (let seed = 1; seed <= 60; seed++) {
      const text = generatedFile(seed, 25);
      assertSame(text, `seed ${seed}`, 'parts');
      assertQuickSame(text, `seed ${seed}`);
      assertQuickSame(text.replace(/ +#.*$|^ *#.*\n/gm, ''), `seed ${seed} without comments`);
      assertSame(text.replace(/\n/g, '\r\n'), `seed ${seed} CRLF`, 'parts');
    }
  });

  it('on anchors defined in one service and merged in later ones, and redefined', () => {
    const text =
      'services:\n  a: &base\n    image: redis:7\n    restart: always\n  b:\n    <<: *base\n  c: &base\n    image: postgres:16\n    command: postgres -c fsync=off\n  d:\n    <<: *base\n    ports: ["5432:5432"]\n';
    assertSame(text, 'anchors across services', 'parts');
  });

  it('with extends forward, backward, in a chain and in a cycle', () => {
    const text =
      'services:\n  a:\n    extends: b\n  b:\n    extends: c\n    tmpfs: /x\n  c:\n    image: postgres:16\n    command: postgres -c fsync=off\n    container_name: fixed\n    ports: ["80:80"]\n  d:\n    extends: e\n  e:\n    extends: d\n';
    assertSame(text, 'extends', 'parts');
    // `extends` spelled with an escape: the parts still keep the service it names.
    assertSame(text.replace(/extends:/g, '"\\x65xtends":'), 'extends by escape', 'parts');
  });

  it('refuses, and then the whole document decides, what parts could read differently', () => {
    const refused: Record<string, string> = {
      'several documents': 'services:\n  a:\n    image: redis\n---\nservices:\n  b:\n    image: redis\n',
      'legacy format': 'web:\n  image: redis\n  restart: always\n',
      'a version mapping': 'version: {a: 1}\nservices:\n  a:\n    image: redis\n',
      'duplicate services': 'services:\n  a:\n    image: redis\n  a:\n    image: nginx\n',
      'duplicate top-level keys': 'services:\n  a:\n    image: redis\nx-a: 1\nx-a: 2\n',
      'a flow services mapping': 'services: {a: {image: redis}}\n',
      'an anchored services mapping': 'services: &s\n  a:\n    image: redis\n',
      'a merge key among the services':
        'x-s: &s\n  z: {image: redis}\nservices:\n  <<: *s\n  a:\n    image: redis\n',
      'a syntax error': 'services:\n  a:\n    image: [redis\n  b:\n    image: nginx\n',
      'a multi-line quoted value at column 0': 'x-a: "one\ntwo: three"\nservices:\n  a:\n    image: redis\n',
      'a tab-indented line': 'services:\n\ta:\n    image: redis\n',
      'uneven service indentation': 'services:\n    a:\n      image: redis\n  b:\n    image: redis\n',
      'a directive': '%YAML 1.2\n---\nservices:\n  a:\n    image: redis\n',
      'an empty services mapping': 'services:\nvolumes: {}\n',
      'every service reset': 'services:\n  a: !reset\n',
    };
    for (const [label, text] of Object.entries(refused)) assertSame(text, label, 'whole');
  });

  it('keeps what the whole document says about a part that is not a mapping or empty', () => {
    const text =
      'services:\n  a:\n  b: just a string\n  c:\n    - a list\n  d: !reset\n  e:\n    image: redis:7\n';
    assertSame(text, 'odd service values', 'parts');
  });
});
