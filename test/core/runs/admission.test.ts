import { strict as assert } from 'node:assert';
import type { LockHolder } from '../../../src/core/lock';
import type { Sample } from '../../../src/core/monitor/types';
import {
  admissionPrediction,
  recentSample,
  stillToCome,
  usageFromSample,
} from '../../../src/core/runs/admission';
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

  it('asked to count some holders as gone, takes their present use off the daemon and their need out', () => {
    const mine = {
      added: { ...emptyAmounts(), memoryBytes: 300 * MiB },
      explanation: 'x',
    } as unknown as Prediction;
    const usage = new Map([
      ['a', { ...emptyAmounts(), memoryBytes: 200 * MiB }],
      ['b', { ...emptyAmounts(), memoryBytes: 100 * MiB }],
    ]);
    // a stays (50 MiB still to come); b counts as gone: its 100 MiB in use now come off.
    const p = admissionPrediction(mine, [holder('a', 250)], usage, [holder('b', 250)]);
    assert.equal(p.added.memoryBytes, (300 + 50 - 100) * MiB);
    assert.match(p.explanation, /counting 1 other shared run as gone/);
  });

  it("reads each run's use from the sample's per-owner totals, with no daemon call", () => {
    const sample = {
      owners: [
        { owner: { kind: 'run', id: 'r1' }, containers: 2, memoryBytes: 5 * MiB, cpuPercent: 12 },
        { owner: { kind: 'compose', id: 'p' }, containers: 1, memoryBytes: 9 * MiB, cpuPercent: 1 },
      ],
    } as unknown as Sample;
    const usage = usageFromSample(sample);
    assert.deepEqual([...usage.keys()], ['r1']);
    assert.deepEqual(usage.get('r1'), {
      ...emptyAmounts(),
      memoryBytes: 5 * MiB,
      cpuPercent: 12,
      containers: 2,
    });
    assert.equal(usageFromSample({} as Sample).size, 0);
  });

  it('reuses a sample while it is young, takes a new one once it is older, and forgets a failed one', async () => {
    let taken = 0;
    let fail = false;
    const take = recentSample(async () => {
      taken++;
      if (fail) throw new Error('daemon busy');
      return { sampledAt: String(taken) } as Sample;
    }, 100);
    assert.equal((await take()).sampledAt, '1');
    assert.equal((await take()).sampledAt, '1');
    await new Promise((r) => setTimeout(r, 150));
    fail = true;
    await assert.rejects(take(), /daemon busy/);
    fail = false;
    assert.equal((await take()).sampledAt, '3');
  });

  it('takes a new sample, however young the last, once a holder present when it was taken has left', async () => {
    let taken = 0;
    const take = recentSample(async () => ({ sampledAt: String(++taken) }) as Sample, 60_000);
    assert.equal((await take(['a', 'b'])).sampledAt, '1');
    assert.equal((await take(['a', 'b', 'c'])).sampledAt, '1', 'a holder joining does not make it stale');
    assert.equal((await take(['b', 'a'])).sampledAt, '1', 'nor the joiner leaving again');
    assert.equal((await take(['b'])).sampledAt, '2', "'a' left: its containers' use is gone");
    assert.equal((await take(['b'])).sampledAt, '2');
    assert.equal((await take()).sampledAt, '2', 'without holders named, by age only');
    // A sample taken without holders (a run's first) takes those of the first question.
    const first = recentSample(async () => ({ sampledAt: String(++taken) }) as Sample, 60_000);
    assert.equal((await first()).sampledAt, '3');
    assert.equal((await first(['x', 'y'])).sampledAt, '3');
    assert.equal((await first(['y'])).sampledAt, '4');
  });
});
