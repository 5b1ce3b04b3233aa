import assert from 'node:assert/strict';
import { applyFix, checkCompose, type Finding } from '../../../src/core/compose/index';
import { parseCompose } from '../../../src/core/compose/model';
import { smallerVariant } from '../../../src/core/compose/variants';

const variantFindings = (text: string, file: string): Finding[] =>
  checkCompose(text, file).filter((f) => f.rule === 'image-variant');

describe('compose image-variant rule (slim/alpine of official images)', () => {
  it('suggests the variant of the same version, written like the original reference', () => {
    assert.equal(smallerVariant('postgres:16')?.image, 'postgres:16-alpine');
    assert.equal(smallerVariant('python:3.12.4')?.image, 'python:3.12.4-slim');
    assert.equal(smallerVariant('node')?.image, 'node:slim');
    assert.equal(smallerVariant('redis:latest')?.image, 'redis:alpine');
    assert.equal(smallerVariant('nginx:stable')?.image, 'nginx:stable-alpine');
    assert.equal(
      smallerVariant('docker.io/library/golang:1.22')?.image,
      'docker.io/library/golang:1.22-alpine',
    );
  });

  it('never for a variant already, a suffixed tag, a digest, a variable, another registry or an unknown image', () => {
    for (const image of [
      'postgres:16-alpine',
      'python:3.12-slim',
      'python:3.12-slim-bookworm',
      'node:20-bookworm',
      'postgres@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
      'postgres:16@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
      'postgres:${PG_VERSION}',
      '${IMAGE}',
      'ghcr.io/acme/postgres:16',
      'quay.io/postgres:16',
      'bitnami/postgresql:16',
      'mysql:8',
      'mariadb:11',
      'mongo:7',
      'my/api',
      'busybox:1.36',
    ])
      assert.equal(smallerVariant(image), undefined, image);
  });

  it('is info in a dev file and a warning in a test file, at the image value', () => {
    const text = 'services:\n  db:\n    image: postgres:16\n';
    const dev = variantFindings(text, '/p/docker-compose.yml');
    const test = variantFindings(text, '/p/docker-compose.test.yml');
    assert.deepEqual(
      dev.map((f) => [f.severity, f.line, f.column, f.endColumn]),
      [['info', 3, 12, 23]],
    );
    assert.deepEqual(
      test.map((f) => f.severity),
      ['warning'],
    );
    assert.match(dev[0]?.message ?? '', /postgres:16-alpine/);
  });

  it('its quick fix gives valid YAML with the variant, and the finding is gone', () => {
    const text = 'services:\n  web:\n    image: "node:20" # the app\n    command: node server.js\n';
    const [finding] = variantFindings(text, '/p/compose.yaml');
    assert.ok(finding?.fix);
    const fixed = applyFix(text, finding.fix);
    const parsed = parseCompose(fixed).documents[0];
    assert.deepEqual(parsed?.doc.errors, []);
    assert.equal(
      (parsed?.plain as { services: { web: { image: string } } }).services.web.image,
      'node:20-slim',
    );
    assert.deepEqual(variantFindings(fixed, '/p/compose.yaml'), []);
  });

  it('an image merged in from an anchor is reported without a fix that would change every service sharing it', () => {
    const text = 'x-db: &db\n  image: redis:7\nservices:\n  cache:\n    <<: *db\n';
    const [finding] = variantFindings(text, '/p/compose.yaml');
    assert.equal(finding?.service, 'cache');
    assert.equal(finding?.fix, undefined);
  });
});
