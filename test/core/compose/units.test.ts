import assert from 'node:assert/strict';
import { overridePath, variantFor } from '../../../src/core/compose/apply';
import { resourcesPatch, servicePatch } from '../../../src/core/compose/patches';
import { knownHealthcheck, parseImageRef } from '../../../src/core/compose/images';
import {
  formatComposeBytes,
  hasInterpolation,
  parseComposeBytes,
  parseCpus,
  parsePostgresBytes,
  unclosedInterpolation,
} from '../../../src/core/compose/units';

describe('compose values', () => {
  it('parses compose byte sizes with binary units, any case, optional b', () => {
    assert.equal(parseComposeBytes('512M'), 512 * 1024 ** 2);
    assert.equal(parseComposeBytes('512m'), 512 * 1024 ** 2);
    assert.equal(parseComposeBytes('1gb'), 1024 ** 3);
    assert.equal(parseComposeBytes('1.5G'), 1.5 * 1024 ** 3);
    assert.equal(parseComposeBytes(1048576), 1048576);
    assert.equal(parseComposeBytes('100'), 100);
  });

  it('gives undefined for sizes it cannot judge: variables, garbage, negatives', () => {
    for (const v of ['${MEM}', '${MEM:-1g}', 'lots', '-1', '', null, undefined, {}, -5])
      assert.equal(parseComposeBytes(v), undefined, String(v));
  });

  it('parses CPUs as numbers or numeric strings only', () => {
    assert.equal(parseCpus('0.25'), 0.25);
    assert.equal(parseCpus(2), 2);
    assert.equal(parseCpus('${CPUS}'), undefined);
    assert.equal(parseCpus('two'), undefined);
  });

  it('tells interpolation from a literal $$', () => {
    assert.equal(hasInterpolation('${A}'), true);
    assert.equal(hasInterpolation('$A'), true);
    assert.equal(hasInterpolation('x ${A:-1} y'), true);
    assert.equal(hasInterpolation('$$HOME'), false);
    assert.equal(hasInterpolation('price: 5$'), false);
    assert.equal(hasInterpolation(5), false);
  });

  it('finds an unclosed ${ and ignores closed ones and $$', () => {
    assert.equal(unclosedInterpolation('a ${B'), 2);
    assert.equal(unclosedInterpolation('${A} and ${B'), 9);
    assert.equal(unclosedInterpolation('${A} $${B'), undefined);
    assert.equal(unclosedInterpolation('plain'), undefined);
  });

  it('parses PostgreSQL memory settings; a bare number counts 8 kB pages', () => {
    assert.equal(parsePostgresBytes('128MB'), 128 * 1024 ** 2);
    assert.equal(parsePostgresBytes('1GB'), 1024 ** 3);
    assert.equal(parsePostgresBytes('16384'), 16384 * 8192);
    assert.equal(parsePostgresBytes('128mb'), undefined, 'PostgreSQL units are case-sensitive');
  });

  it('formats bytes in the largest whole binary unit', () => {
    assert.equal(formatComposeBytes(128 * 1024 ** 2), '128M');
    assert.equal(formatComposeBytes(1024 ** 3), '1G');
    assert.equal(formatComposeBytes(1536 * 1024), '1536K');
    assert.equal(formatComposeBytes(1000), '1000');
  });

  it('reads the repository behind registries, library/, tags and digests; a variable repository is unknown', () => {
    assert.deepEqual(parseImageRef('postgres:16'), { repository: 'postgres', tag: '16' });
    assert.deepEqual(parseImageRef('registry.example.com:5000/team/redis:7@sha256:abc'), {
      repository: 'team/redis',
      tag: '7',
    });
    assert.deepEqual(parseImageRef('docker.io/library/redis'), { repository: 'redis', tag: undefined });
    assert.deepEqual(parseImageRef('localhost/acme/app:${TAG}'), { repository: 'acme/app', tag: '${TAG}' });
    assert.equal(parseImageRef('${IMAGE}'), undefined);
    assert.equal(parseImageRef('ghcr.io/acme/${NAME}:1'), undefined);
    assert.deepEqual(knownHealthcheck({ image: 'bitnami/postgresql:15' }), [
      'CMD',
      'pg_isready',
      '-h',
      '127.0.0.1',
    ]);
    assert.equal(knownHealthcheck({ image: 'nginx' }), undefined);
  });
});

describe('compose apply patches', () => {
  it('a service with nothing gets deploy.resources', () => {
    assert.deepEqual(resourcesPatch({}), {
      deploy: { resources: { limits: { memory: '512M', cpus: '0.25' }, reservations: { memory: '256M' } } },
    });
  });

  it('a service using mem_limit/cpus gets the same style (compose v1 would drop mem_limit next to deploy.resources.limits)', () => {
    assert.deepEqual(resourcesPatch({ mem_limit: '1g' }), { cpus: '0.25', mem_reservation: '256M' });
    assert.deepEqual(resourcesPatch({ cpus: 1 }), { mem_limit: '512M', mem_reservation: '256M' });
  });

  it('an existing deploy.resources.limits mapping receives the missing limits', () => {
    assert.deepEqual(
      resourcesPatch({ mem_limit: '1g', deploy: { resources: { limits: { memory: '1g' } } } }),
      { mem_reservation: '256M', deploy: { resources: { limits: { cpus: '0.25' } } } },
    );
  });

  it('a limit below the standard reservation caps the reservation; a variable limit gets none', () => {
    assert.deepEqual(resourcesPatch({ deploy: { resources: { limits: { memory: '128M', cpus: 1 } } } }), {
      deploy: { resources: { reservations: { memory: '128M' } } },
    });
    assert.deepEqual(resourcesPatch({ deploy: { resources: { limits: { memory: '${M}', cpus: 1 } } } }), {});
  });

  it('servicePatch never replaces a value the service has, and respects a disabled healthcheck', () => {
    const full = {
      init: false,
      restart: 'always',
      healthcheck: { disable: true },
      mem_limit: '1g',
      mem_reservation: '1g',
      cpus: 1,
      logging: { driver: 'syslog' },
    };
    assert.deepEqual(servicePatch(full, 'test'), {});
  });

  it('names the override next to the file, keeping its extension', () => {
    assert.equal(overridePath('/p/docker-compose.yml'), '/p/docker-compose.stability.yml');
    assert.equal(overridePath('/p/compose.yaml'), '/p/compose.stability.yaml');
    assert.equal(overridePath('/p/docker-compose.ci.yml'), '/p/docker-compose.ci.stability.yml');
    assert.equal(variantFor('/p/docker-compose.test.yml'), 'test');
    assert.equal(variantFor('/p/docker-compose.yml'), 'dev');
    assert.equal(variantFor('/p/docker-compose.yml', 'test'), 'test');
  });
});
