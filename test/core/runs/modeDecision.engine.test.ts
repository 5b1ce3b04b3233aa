import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LockManager, LockTimeoutError } from '../../../src/core/lock';
import { RunStore } from '../../../src/core/runs/records';
import { beginTestRun, type ActiveTestRun } from '../../../src/core/runs/testRun';
import { testClient } from '../../helpers/docker';

/**
 * The library path takes the same mode decision as the CLI: a shared request over compose files
 * with a fixed host port runs exclusive, and says why, with no CLI in between.
 */
describe('runs: a library run asking for shared gets the core mode decision (engine)', function () {
  this.timeout(60_000);
  const client = testClient();
  let home: string;
  let compose: string;
  let lock: LockManager;
  const active: ActiveTestRun[] = [];

  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'ds-mode-lib-'));
    compose = mkdtempSync(join(tmpdir(), 'ds-mode-lib-compose-'));
    lock = new LockManager({ dir: join(home, 'locks') });
  });
  afterEach(async () => {
    await Promise.all(active.splice(0).map((r) => r.end({ exitCode: 0 }).catch(() => undefined)));
    rmSync(home, { recursive: true, force: true });
    rmSync(compose, { recursive: true, force: true });
  });

  const options = (category: string, progress: string[]) => ({
    category,
    client,
    lock,
    store: new RunStore(join(home, 'runs.jsonl')),
    mode: 'shared' as const,
    composeDir: compose,
    cleanupAfter: false,
    prediction: {
      defaults: { [category]: { memoryBytes: 0, cpuPercent: 0, containers: 0, networks: 0, volumes: 0 } },
    },
    monitor: { capacities: { containers: 1_000_000, networks: 1_000_000, volumes: 1_000_000 } },
    force: true,
    onProgress: (m: string) => progress.push(m),
  });

  it('a shared request over a fixed host port holds the lock exclusive, with the reason in its progress and report', async () => {
    writeFileSync(
      join(compose, 'docker-compose.yml'),
      'services:\n  web:\n    image: busybox\n    ports: ["8080:80"]\n',
    );
    const progress: string[] = [];
    const run = await beginTestRun(options('mode-lib', progress));
    active.push(run);
    const [status] = await lock.status('test');
    assert.equal(status?.held, true);
    assert.ok(status?.holder, 'an exclusive holder');
    assert.equal(status?.shared?.length ?? 0, 0, 'no shared holders');
    // Held exclusive: not even a shared request gets in beside it.
    await assert.rejects(
      lock.acquire('test', { mode: 'shared', timeoutMs: 500 }),
      (err: Error) => err instanceof LockTimeoutError,
    );
    assert.ok(
      progress.includes(
        'mode exclusive: shared asked, but service "web" in docker-compose.yml: host port 8080 is fixed; two runs at once would collide',
      ),
      progress.join('\n'),
    );
    const report = await active.splice(0)[0]!.end({ exitCode: 0 });
    assert.equal(report.mode.mode, 'exclusive');
    assert.equal(report.mode.downgraded, true);
    assert.match(report.mode.reason ?? '', /host port 8080 is fixed/);
  });

  it('the same request with forceShared holds the lock shared, with a warning', async () => {
    writeFileSync(
      join(compose, 'docker-compose.yml'),
      'services:\n  web:\n    image: busybox\n    ports: ["8080:80"]\n',
    );
    const progress: string[] = [];
    const run = await beginTestRun({ ...options('mode-lib-forced', progress), forceShared: true });
    active.push(run);
    const [status] = await lock.status('test');
    assert.equal(status?.shared?.length, 1);
    assert.ok(
      progress.some((m) => /^warning: mode shared \(forced\) although service "web"/.test(m)),
      progress.join('\n'),
    );
  });
});
