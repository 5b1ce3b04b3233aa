import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CleanupReport } from '../../../src/core/cleanup';
import { planCleanup, runCleanup } from '../../../src/core/cleanup';
import { LockManager } from '../../../src/core/lock';
import { keyOf, MixedFixture, type Key } from './mixedFixture';

/** Every fixture resource that still exists, as keys (anonymous volumes, unlabelled, looked up by name). */
async function existing(fx: MixedFixture): Promise<Set<Key>> {
  const filters = { label: Object.entries(fx.scope).map(([k, v]) => `${k}=${v}`) };
  const [cs, ns, vs, anon] = await Promise.all([
    fx.f.client.listContainers(filters),
    fx.f.client.listNetworks(filters),
    fx.f.client.listVolumes(filters),
    Promise.all(
      [...fx.anonymous.keys()].map((v) =>
        fx.f.api
          .getVolume(v)
          .inspect()
          .then(() => v)
          .catch(() => undefined),
      ),
    ),
  ]);
  return new Set<Key>([
    ...cs.map((c) => `container/${c.Id}` as Key),
    ...ns.map((n) => `network/${n.Id}` as Key),
    ...vs.map((v) => `volume/${v.Name}` as Key),
    ...anon.filter((v) => v !== undefined).map((v) => `volume/${v}` as Key),
  ]);
}

/** Anonymous volumes of kept containers: never considered by a pass, and never touched. */
function untouchedAnonymous(fx: MixedFixture): Key[] {
  return [...fx.anonymous].filter(([, goes]) => !goes).map(([v]) => `volume/${v}` as Key);
}

/** Asserts two sets of keys are equal, showing only the differences. */
function sameKeys(actual: Iterable<Key>, expected: Iterable<Key>, what: string): void {
  const a = new Set(actual);
  const e = new Set(expected);
  const diff = { unexpected: [...a].filter((k) => !e.has(k)), missing: [...e].filter((k) => !a.has(k)) };
  assert.deepEqual(diff, { unexpected: [], missing: [] }, what);
}

describe('cleanup on the real engine: mixed and trap fixture of 100+ resources', function () {
  this.timeout(240_000);
  const fx = new MixedFixture();
  const lockDir = mkdtempSync(join(tmpdir(), 'dstab-cleanup-lock-'));
  const lock = { manager: new LockManager({ dir: lockDir }), timeoutMs: 30_000 };
  let dryRun: CleanupReport;
  let during: Set<Key> = new Set();

  before(async () => {
    await fx.build();
    // Volumes and containers are listed to the second: let the second of the last creation pass,
    // so "created after the pass began" cannot apply to the fixture itself.
    await new Promise((r) => setTimeout(r, 1100));
  });

  after(async () => {
    await fx.cleanup();
    rmSync(lockDir, { recursive: true, force: true });
  });

  it('holds at least 100 resources of every category the issue lists', async () => {
    assert.ok(fx.size >= 100, `fixture has ${fx.size} resources`);
    const now = await existing(fx);
    const known = new Set([...fx.remove, ...fx.keep, ...untouchedAnonymous(fx)]);
    assert.deepEqual(
      { extra: [...now].filter((k) => !known.has(k)), missing: [...known].filter((k) => !now.has(k)) },
      { extra: [], missing: [] },
    );
  });

  it('keeps everything when the age floor is larger than the fixture age', async () => {
    const plan = await planCleanup(fx.f.client, { scope: fx.scope, olderThanMs: 3_600_000 });
    assert.deepEqual(plan.remove, []);
    // An anonymous volume is considered only through a container the pass removes: none here.
    const anonymousGoing = [...fx.anonymous.values()].filter((goes) => goes).length;
    assert.equal(
      plan.keep.length,
      fx.size - anonymousGoing,
      'every fixture resource is listed as kept, nothing else',
    );
    const young = plan.keep.filter((e) => fx.remove.has(keyOf(e)));
    assert.equal(young.length, fx.remove.size - anonymousGoing);
    for (const e of young) assert.match(e.reason, /^younger than 1h 00m/, `${e.type} ${e.name}`);
  });

  it('dry run: lists exactly the owned, stopped or unused, unprotected subset, each kept one with its reason, and touches nothing', async () => {
    dryRun = await runCleanup(fx.f.client, { scope: fx.scope, olderThanMs: 0, dryRun: true, lock });
    sameKeys(dryRun.removed.map(keyOf), fx.remove, 'would remove');
    sameKeys(dryRun.kept.map(keyOf), fx.keep, 'would keep');
    assert.deepEqual(dryRun.failed, []);
    const reasons = new Map(dryRun.kept.map((e) => [keyOf(e), e.reason]));
    for (const [key, re] of fx.keepReasons) {
      if (fx.keep.has(key)) assert.match(reasons.get(key) ?? '', re, key);
    }
    const removing = new Map(dryRun.removed.map((e) => [keyOf(e), e.reason]));
    for (const [key, re] of fx.removeReasons) assert.match(removing.get(key) ?? '', re, key);
    sameKeys(
      await existing(fx),
      [...fx.remove, ...fx.keep, ...untouchedAnonymous(fx)],
      'a dry run removes nothing',
    );
  });

  it('real run: removes exactly what the dry run listed, in order, and keeps what is created while it runs', async () => {
    const pass = runCleanup(fx.f.client, { scope: fx.scope, olderThanMs: 0, lock });
    // Owned, stopped, unused resources created after the pass began: the pass must keep them.
    const created = (async () => {
      const keysBefore = new Set([...fx.remove, ...fx.keep]);
      await Promise.all([
        fx.container('exited', { labels: fx.run }, false),
        fx.container('created', { labels: fx.run }, false),
        fx.volume(fx.run, false),
        fx.network(fx.run, false),
      ]);
      during = new Set([...fx.keep].filter((k) => !keysBefore.has(k)));
    })();
    const [report] = await Promise.all([pass, created]);
    assert.equal(during.size, 4);

    assert.deepEqual(report.failed, []);
    sameKeys(report.removed.map(keyOf), dryRun.removed.map(keyOf), 'removed what the dry run listed');
    const order = report.removed.map((e) => e.type);
    const rank = { container: 0, network: 1, volume: 2, image: 3 };
    for (let i = 1; i < order.length; i++) {
      assert.ok(
        rank[order[i - 1] as keyof typeof rank] <= rank[order[i] as keyof typeof rank],
        'containers, then networks, then volumes',
      );
    }
    assert.equal(typeof report.bytesReclaimed, 'number', 'container writable layers were measured');

    const now = await existing(fx);
    for (const k of fx.remove) assert.ok(!now.has(k), `${k} should be gone`);
    for (const k of [...fx.keep, ...untouchedAnonymous(fx)]) assert.ok(now.has(k), `${k} should still exist`);
    for (const k of during) assert.ok(now.has(k), `${k} (created during the pass) should still exist`);
  });

  it('the next pass removes exactly what the previous pass kept for being created during it', async () => {
    await new Promise((r) => setTimeout(r, 1100));
    const plan = await planCleanup(fx.f.client, { scope: fx.scope, olderThanMs: 0 });
    sameKeys(plan.remove.map(keyOf), during, 'the second pass removes what the first kept as new');
  });
});
