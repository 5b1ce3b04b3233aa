import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decideRunMode, validateRunModes } from '../../../src/core/runs/modeDecision';

/** The core's decision of a run's mode, as the CLI and the library both take it (no engine). */
describe('runs: the mode decision (core)', function () {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ds-mode-decision-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const fixedPort = (): void =>
    writeFileSync(
      join(dir, 'docker-compose.yml'),
      'services:\n  web:\n    image: busybox\n    ports: ["8080:80"]\n',
    );
  const clean = (): void =>
    writeFileSync(
      join(dir, 'docker-compose.yml'),
      'services:\n  web:\n    image: busybox\n    ports: ["80"]\n',
    );
  const decide = (req: Omit<Parameters<typeof decideRunMode>[0], 'dir' | 'env' | 'category'>) =>
    decideRunMode({ category: 'unit', dir, env: {}, ...req });

  it('is exclusive when nothing is asked, without reading the compose files', async () => {
    // Not valid compose: judging it would say so in the reason.
    writeFileSync(join(dir, 'docker-compose.yml'), 'services: [unclosed\n');
    const d = await decide({});
    assert.deepEqual(
      { mode: d.mode, asked: d.asked, reason: d.reason, note: d.note, files: d.files },
      {
        mode: 'exclusive',
        asked: { mode: 'exclusive', by: 'default' },
        reason: undefined,
        note: undefined,
        files: undefined,
      },
    );
    const asked = await decide({ mode: 'exclusive', modes: { unit: 'shared' } });
    assert.equal(asked.mode, 'exclusive');
    assert.deepEqual(asked.asked, { mode: 'exclusive', by: 'caller' });
    assert.equal(asked.reason, undefined);
  });

  it('refuses a shared request over a fixed host port: exclusive, with the reason in core words', async () => {
    fixedPort();
    const d = await decide({ mode: 'shared' });
    assert.equal(d.mode, 'exclusive');
    assert.equal(d.downgraded, true);
    assert.equal(d.forced, false);
    assert.match(
      d.reason ?? '',
      /service "web" in docker-compose\.yml: host port 8080 is fixed; two runs at once would collide/,
    );
    assert.equal(
      d.note,
      'mode exclusive: shared asked, but service "web" in docker-compose.yml: host port 8080 is fixed; two runs at once would collide',
    );
    assert.deepEqual(d.files, [join(dir, 'docker-compose.yml')]);
  });

  it('runs shared over fixed ports only when the caller itself forces it, never for a configured mode', async () => {
    fixedPort();
    const forced = await decide({ mode: 'shared', forceShared: true });
    assert.equal(forced.mode, 'shared');
    assert.equal(forced.forced, true);
    assert.match(forced.note ?? '', /^warning: mode shared \(forced\) although service "web"/);
    const configured = await decide({ modes: { unit: 'shared' }, forceShared: true });
    assert.equal(configured.mode, 'exclusive');
    assert.equal(configured.downgraded, true);
    assert.deepEqual(configured.asked, { mode: 'shared', by: 'config' });
    assert.match(
      configured.note ?? '',
      /^mode exclusive: shared asked \(configured for "unit"\), but service "web"/,
    );
  });

  it('grants shared where the files allow it, from the caller or the configuration, and says why', async () => {
    clean();
    const d = await decide({ mode: 'shared' });
    assert.equal(d.mode, 'shared');
    assert.equal(d.note, 'mode shared: no fixed container name or host port in docker-compose.yml');
    const configured = await decide({ modes: { unit: 'shared', other: 'exclusive' } });
    assert.equal(configured.mode, 'shared');
    assert.match(configured.note ?? '', /^mode shared \(configured for "unit"\): no fixed/);
    // Another category's mode is not this one's; nor is an inherited key.
    assert.equal((await decideRunMode({ category: 'toString', dir, env: {}, modes: {} })).mode, 'exclusive');
    assert.equal(
      (await decideRunMode({ category: 'other', dir, env: {}, modes: { unit: 'shared' } })).mode,
      'exclusive',
    );
  });

  it('never names a CLI flag or config key in its own words', async () => {
    fixedPort();
    for (const req of [
      { mode: 'shared' as const },
      { mode: 'shared' as const, forceShared: true },
      { modes: { unit: 'shared' as const } },
    ]) {
      const d = await decide(req);
      assert.doesNotMatch(d.note ?? '', /--|runs\.modes/);
    }
  });

  it('validates a configured mode map, naming the first bad value where it is', () => {
    assert.deepEqual(validateRunModes(undefined), {});
    assert.deepEqual(validateRunModes({ a: 'shared', b: 'exclusive' }), { a: 'shared', b: 'exclusive' });
    assert.throws(
      () => validateRunModes(['shared'], 'runs.modes'),
      /^Error: runs\.modes must map categories to "shared" or "exclusive" \(got \["shared"\]\)$/,
    );
    assert.throws(
      () => validateRunModes({ a: 'shared', b: 'parallel' }, 'runs.modes'),
      /runs\.modes\.b must be "shared" or "exclusive" \(got "parallel"\)/,
    );
  });
});
