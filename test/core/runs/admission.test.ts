import { strict as assert } from 'node:assert';
import type { LockHolder } from '../../../src/core/lock';
import { admissionPrediction, stillToCome } from '../../../src/core/runs/admission';
import type { Prediction } from '../../../src/core/runs/predict';
import { emptyAmounts } from '../../../src/core/runs/records';

const MiB = 2 ** 20;
const holder = (tag: string | undefined, memoryMiB: number): LockHolder => ({
  user: 'u',
  host: 'h',
  pid: 1,
  why: '',
  acquiredAt: '',
  heartbeatAt: '',
  token: `t-${tag}`,
  mode: 'shared',
  needs: { memoryBytes: memoryMiB * MiB, containers: 1 },
  ...(tag !== undefined ? { tag } : {}),
});

describe('admission of shared runs (pure)', () => {
  it('counts what running shared runs will still add: their need less what their containers use, never below zero', () => {
    const usage = new Map([
      ['a', { ...emptyAmounts(), memoryBytes: 100 * MiB, containers: 1 }],
      ['b', { ...emptyAmounts(), memoryBytes: 400 * MiB, containers: 2 }],
    ]);
    const coming = stillToCome([holder('a', 250), holder('b', 250), holder(undefined, 50)], usage);
    assert.equal(coming.memoryBytes, (150 + 0 + 50) * MiB);
    assert.equal(coming.containers, 0 + 0 + 1);
  });

  it("admits on the run's own prediction plus what is still to come, and says so", () => {
    const mine: Prediction = {
      category: 'c',
      added: { ...emptyAmounts(), memoryBytes: 250 * MiB },
      basis: 'history',
      runs: 3,
      explanation: 'p90 of 3 runs',
    } as unknown as Prediction;
    const p = admissionPrediction(
      mine,
      [holder('a', 250)],
      new Map([['a', { ...emptyAmounts(), memoryBytes: 50 * MiB }]]),
    );
    assert.equal(p.added.memoryBytes, (250 + 200) * MiB);
    assert.match(p.explanation, /plus what the 1 shared run already running will still add/);
    assert.equal(admissionPrediction(mine, [], new Map()).explanation, 'p90 of 3 runs');
  });
});
