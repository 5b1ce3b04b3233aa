import { strict as assert } from 'node:assert';
import { renderConsumers } from '../../../src/cli/render';
import { buildSample } from '../../../src/core/monitor/formulas';
import {
  groupByOwner,
  ownerLabel,
  ownerOf,
  topConsumers,
  type ContainerUsage,
} from '../../../src/core/monitor/owners';
import { sampleInputs } from './sampleInputs';

const MiB = 1024 * 1024;

function usage(name: string, labels: Record<string, string>, mib: number, cpu = 0): ContainerUsage {
  return {
    id: name.padEnd(12, '0').slice(0, 12),
    name,
    owner: ownerOf(labels),
    memoryBytes: mib * MiB,
    cpuPercent: cpu,
  };
}

describe('who uses what (owners)', () => {
  it('tells a run, a compose project, a testcontainers session and anything else apart by their labels', () => {
    assert.deepEqual(
      ownerOf({ 'docker-stability.run-id': 'r1', 'com.docker.compose.project': 'shop-test' }),
      { kind: 'run', id: 'r1' },
    );
    assert.deepEqual(ownerOf({ 'docker-stability.run-id': 'r1', 'docker-stability.category': 'unit' }), {
      kind: 'run',
      id: 'r1',
      category: 'unit',
    });
    assert.deepEqual(ownerOf({ 'com.docker.compose.project': 'shop-test' }), {
      kind: 'compose',
      id: 'shop-test',
    });
    assert.deepEqual(ownerOf({ 'org.testcontainers.session-id': 'abc' }), {
      kind: 'testcontainers',
      id: 'abc',
    });
    assert.deepEqual(ownerOf({ maintainer: 'x' }), { kind: 'other', id: '' });
    assert.deepEqual(ownerOf(undefined), { kind: 'other', id: '' });
    assert.deepEqual(
      ownerOf({ 'docker-stability.run-id': '' }),
      { kind: 'other', id: '' },
      'an empty label value names no owner',
    );
  });

  it('names owners in a few words', () => {
    assert.equal(ownerLabel({ kind: 'run', id: 'r1', category: 'unit' }), 'run r1 (unit)');
    assert.equal(ownerLabel({ kind: 'compose', id: 'shop-test' }), 'compose shop-test');
    assert.equal(ownerLabel({ kind: 'testcontainers', id: '9b1e0f2a-1111-2222' }), 'testcontainers 9b1e0f2a');
    assert.equal(ownerLabel({ kind: 'other', id: '' }), 'other');
  });

  it('sums each owner over its containers, heaviest owner first', () => {
    const all = [
      usage('db', { 'com.docker.compose.project': 'shop-test' }, 200, 10),
      usage('web', { 'com.docker.compose.project': 'shop-test' }, 100, 5.555),
      usage('lone', {}, 250, 1),
      usage('tc', { 'org.testcontainers.session-id': 's1' }, 10),
    ];
    const groups = groupByOwner(all);
    assert.deepEqual(
      groups.map((g) => [ownerLabel(g.owner), g.containers, g.memoryBytes / MiB, g.cpuPercent]),
      [
        ['compose shop-test', 2, 300, 15.56],
        ['other', 1, 250, 1],
        ['testcontainers s1', 1, 10, 0],
      ],
    );
    assert.deepEqual(groupByOwner([]), []);
  });

  it('keeps the N heaviest containers by memory, CPU breaking ties', () => {
    const all = [usage('a', {}, 10, 1), usage('b', {}, 300), usage('c', {}, 10, 50), usage('d', {}, 5)];
    assert.deepEqual(
      topConsumers(all, 3).map((c) => c.name),
      ['b', 'c', 'a'],
    );
    assert.deepEqual(topConsumers(all, 0), []);
    assert.equal(all[0]?.name, 'a', 'the input is not reordered');
  });

  it('prints the top table and owner totals with names from the daemon stripped of terminal escapes', () => {
    const consumers = [usage('evil\x1b[2Jname', { 'com.docker.compose.project': 'p\x07' }, 300, 12.5)];
    const s = buildSample({ ...sampleInputs(), consumers, owners: groupByOwner(consumers) });
    const text = renderConsumers(s, 5);
    assert.match(text, /top 1 by memory/);
    assert.match(text, /evilname/);
    assert.match(text, /300 MiB\s+12\.5%/);
    assert.match(text, /compose p\s+1 running/);
    assert.ok(
      [...text].every((ch) => ch === '\n' || ch.charCodeAt(0) >= 0x20),
      'no control character but newlines',
    );
    assert.match(
      renderConsumers({ ...s, consumers: undefined, owners: undefined }, 5),
      /no per-container figures/,
    );
  });
});
