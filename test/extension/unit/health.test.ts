import * as assert from 'node:assert/strict';
import { healthTargets, UnreachableTracker } from '../../../src/extension/health';

describe('dashboard health targets', () => {
  it('says "no runs recorded yet" and leaves run targets unjudged without run records', () => {
    const t = healthTargets({
      unreachableEpisodes: 0,
      windowMs: 86_400_000,
      memoryBudgetBytes: 4 << 30,
      runs: [],
    });
    const success = t.find((x) => x.id === 'successRate');
    assert.equal(success?.value, 'no runs recorded yet');
    assert.equal(success?.met, undefined);
    assert.equal(t.find((x) => x.id === 'duration')?.met, undefined);
    assert.equal(t.find((x) => x.id === 'orphans')?.met, undefined);
  });

  it('judges each target against its goal', () => {
    const t = healthTargets({
      orphans: 2,
      unreachableEpisodes: 0,
      windowMs: 3_600_000,
      memoryBudgetBytes: 1000,
      runs: [
        { category: 'unit', runs: 4, succeeded: 4, medianDurationMs: 60_000 },
        { category: 'e2e', runs: 1, succeeded: 0, medianDurationMs: 6 * 60_000 },
      ],
    });
    const by = (id: string) => t.filter((x) => x.id === id);
    assert.equal(by('orphans')[0]?.met, false);
    assert.equal(by('unreachable')[0]?.met, true);
    assert.equal(by('successRate')[0]?.value, '80% of 5');
    assert.equal(by('successRate')[0]?.met, false);
    assert.deepEqual(
      by('duration').map((d) => d.met),
      [true, false],
    );
  });

  it('counts each transition into "down" once, within the window only', () => {
    const tr = new UnreachableTracker(1000);
    tr.observe('up', 0);
    tr.observe('down', 100);
    tr.observe('down', 200);
    tr.observe('up', 300);
    tr.observe('down', 900);
    assert.equal(tr.count(1000), 2);
    assert.equal(tr.count(1500), 1);
  });
});
