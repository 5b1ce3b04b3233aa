import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LockManager } from '../../../src/core/lock';
import { predict } from '../../../src/core/runs/predict';
import { RunStore } from '../../../src/core/runs/records';
import { TEST_IMAGE, TEST_LABEL } from '../../helpers/docker';
import { CLI, othersActivity, run, RunWorld, runWorldSuite, startCli, waitUntil } from './helpers';

/**
 * `docker-stability run` end to end on the real engine: the built CLI, real child commands
 * (shell scripts on the user's side of the boundary) and real containers.
 */
describe('runs: docker-stability run (engine)', function () {
  this.timeout(60_000);
  const rw = runWorldSuite();

  it("when the command starts, the lock's metadata already names its process group (the command is gated until then)", async function () {
    if (process.platform === 'win32') this.skip();
    // A shell that looks at once: is its own pid (the group's leader) the recorded pgid?
    const probe = `grep -Eq '"pgid": '$$'(,|$)' ${JSON.stringify(join(rw.world.lockDir, 'test.json'))} && echo recorded || echo missing`;
    const seen: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await run(rw.world, ['--category', 'gate'], ['sh', '-c', probe]);
      assert.equal(r.code, 0, r.stderr);
      seen.push(r.stdout.trim());
    }
    assert.deepEqual(seen, Array(5).fill('recorded'));
  });

  it('removes the containers a run leaves stopped, labelled or not, and after k runs predicts N x 1.1 containers', async function () {
    this.timeout(150_000);
    const N = 4;
    const k = 3;
    const script = rw.world.leaveContainers(2, 2);
    // Counts are daemon-wide (what the environment carries), so another process creating or
    // removing containers outside the lock during a run shifts them. Such a sequence is
    // detected from the daemon's events and repeated in a fresh category, within a budget.
    const budgetEnd = Date.now() + 100_000;
    const disturbed: string[] = [];
    for (let attempt = 1; ; attempt++) {
      const category = `leaves-${rw.world.id}-${attempt}`;
      let clean = true;
      for (let i = 1; i <= k; i++) {
        const r = await run(rw.world, ['--category', category, '--json'], ['sh', '-c', script]);
        assert.equal(r.code, 0, r.stderr);
        const report = JSON.parse(r.stdout) as {
          record: { startedAt: string; endedAt: string; added: { containers: number } };
          cleanup: { removed: unknown[] };
        };
        assert.ok(report.cleanup.removed.length >= N, `run ${i} removed ${report.cleanup.removed.length}`);
        const left = await rw.world.containers(rw.client.api);
        assert.deepEqual(
          left.map((c) => `${c.Names[0]} ${c.State}`),
          [],
          `run ${i} left containers behind`,
        );
        const others = await othersActivity(
          rw.client.api,
          rw.world.prefix,
          new Date(report.record.startedAt),
          new Date(Date.parse(report.record.endedAt) + 1000),
        );
        if (others.length > 0) {
          clean = false;
          disturbed.push(
            `attempt ${attempt} run ${i}: measured ${report.record.added.containers} with ${others.length} foreign container events (${others.slice(0, 3).join(', ')}...)`,
          );
          break;
        }
        assert.equal(
          report.record.added.containers,
          N,
          `run ${i} measured ${report.record.added.containers} containers on an otherwise quiet daemon`,
        );
      }
      if (!clean) {
        assert.ok(
          Date.now() < budgetEnd,
          `the daemon was never quiet for ${k} runs in a row:\n${disturbed.join('\n')}`,
        );
        continue;
      }
      const records = await new RunStore(join(rw.world.home, 'runs.jsonl')).list({ category });
      assert.equal(records.length, k);
      for (const rec of records) {
        assert.equal(rec.exitCode, 0);
        assert.equal(rec.added.containers, N);
        assert.ok(rec.samples >= 2, `a run is sampled at its start and end (got ${rec.samples})`);
        assert.equal(rec.cleanup?.failed, 0);
      }
      const p = predict(category, records);
      assert.equal(p.basis, 'history');
      assert.equal(p.runs, k);
      assert.equal(p.added.containers, Math.ceil(N * 1.1));
      // The other needs follow the measured peaks the same way: at most 10% above the largest.
      const most = (key: 'memoryBytes' | 'cpuPercent' | 'networks' | 'volumes') =>
        Math.max(...records.map((r) => r.added[key]));
      for (const key of ['memoryBytes', 'cpuPercent', 'networks', 'volumes'] as const) {
        assert.ok(
          p.added[key] <= Math.ceil(most(key) * 1.1),
          `${key}: predicted ${p.added[key]}, largest measured ${most(key)}`,
        );
      }
      return;
    }
  });

  it('exits with the command’s exit code: 0, 3, and 128 + 15 when the command dies of SIGTERM', async () => {
    // Three independent worlds (own lock folders) so the three runs go at once.
    const worlds = [rw.world, new RunWorld(), new RunWorld()];
    try {
      const [ok, three, term] = await Promise.all([
        run(worlds[0] as RunWorld, ['--category', 'exit'], ['sh', '-c', 'exit 0']),
        run(worlds[1] as RunWorld, ['--category', 'exit'], ['sh', '-c', 'exit 3']),
        run(worlds[2] as RunWorld, ['--category', 'exit'], ['sh', '-c', 'kill -TERM $$']),
      ]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(three.code, 3, three.stderr);
      assert.equal(term.code, 143, term.stderr);
      assert.match(term.stderr, /signal SIGTERM/);
      const rec = (await new RunStore(join((worlds[2] as RunWorld).home, 'runs.jsonl')).list())[0];
      assert.equal(rec?.exitCode, null);
      assert.equal(rec?.signal, 'SIGTERM');
    } finally {
      await Promise.all(worlds.slice(1).map((w) => w.dispose(rw.client.api)));
    }
  });

  it('a command that cannot be started exits 127 and still releases the lock', async () => {
    const r = await run(rw.world, ['--category', 'missing'], [`no-such-command-${rw.world.id}`]);
    assert.equal(r.code, 127);
    assert.match(r.stderr, /cannot run no-such-command-[a-z0-9-]*: ENOENT/);
    const [status] = await new LockManager({ dir: rw.world.lockDir }).status('test');
    assert.equal(status?.held, false);
  });

  it('forwards a SIGTERM sent to docker-stability run to the command, then cleans up and exits with its code', async () => {
    const ready = join(rw.world.home, 'ready');
    const got = join(rw.world.home, 'got');
    const script = `${rw.world.leaveContainers(0, 1)}\ntrap 'echo TERM > "$GOT"; exit 7' TERM\ntouch "$READY"\nwhile :; do sleep 0.1; done`;
    const { child, done } = startCli(
      rw.world,
      ['run', '--dir', rw.world.lockDir, '--category', 'signal', '--', 'sh', '-c', script],
      { READY: ready, GOT: got },
    );
    await waitUntil(
      () => {
        try {
          readFileSync(ready);
          return true;
        } catch {
          return false;
        }
      },
      20_000,
      'the command to start',
    );
    child.kill('SIGTERM');
    const r = await done;
    assert.equal(r.code, 7, r.stderr);
    assert.equal(readFileSync(got, 'utf8').trim(), 'TERM');
    assert.deepEqual(
      await rw.world.containers(rw.client.api),
      [],
      'the container made before the signal was cleaned up',
    );
    const [status] = await new LockManager({ dir: rw.world.lockDir }).status('test');
    assert.equal(status?.held, false);
  });

  it('two runs of the same environment started together run one after the other, never overlapping, and both succeed', async () => {
    const log = join(rw.world.home, 'intervals');
    writeFileSync(log, '');
    const script =
      'echo "start $DOCKER_STABILITY_RUN_ID $(date +%s%N)" >> "$LOG"; sleep 1; echo "end $DOCKER_STABILITY_RUN_ID $(date +%s%N)" >> "$LOG"';
    const [a, b] = await Promise.all([
      run(rw.world, ['--category', 'serial'], ['sh', '-c', script], { LOG: log }),
      run(rw.world, ['--category', 'serial'], ['sh', '-c', script], { LOG: log }),
    ]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    const spans = new Map<string, { start?: bigint; end?: bigint }>();
    for (const line of readFileSync(log, 'utf8').trim().split('\n')) {
      const [what, id, ns] = line.split(' ') as ['start' | 'end', string, string];
      spans.set(id, { ...spans.get(id), [what]: BigInt(ns) });
    }
    const [x, y] = [...spans.values()].sort((p, q) => (p.start! < q.start! ? -1 : 1));
    assert.equal(spans.size, 2);
    assert.ok(x && y && x.end !== undefined && y.start !== undefined);
    assert.ok(
      x.end < y.start,
      `run intervals overlap: ${JSON.stringify([...spans.entries()], (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`,
    );
  });

  it('refuses a run whose prediction exceeds the limit, explaining it, with exit 4; --force runs it anyway', async () => {
    const category = `big-${rw.world.id}`;
    const config = rw.world.config({
      monitor: { capacities: { containers: 4 } },
      runs: {
        prediction: { defaults: { [category]: { containers: 10 } } },
        // The orphan pass before refusing must not touch what other tests on this daemon own.
        cleanup: { olderThanMs: 10 * 365 * 24 * 3600_000 },
      },
    });
    const refused = await run(
      rw.world,
      ['--category', category, '--config', config, '--timeout', '1s'],
      ['sh', '-c', 'echo RAN'],
    );
    assert.equal(refused.code, 4, refused.stderr);
    assert.doesNotMatch(refused.stdout, /RAN/);
    assert.match(
      refused.stderr,
      new RegExp(
        `refusing to start "${category}": predicted level EMERGENCY \\(limit EMERGENCY\\): containers \\d+ now \\+ 10 predicted = \\d+ of 4`,
      ),
    );
    assert.match(refused.stderr, /no runs of .* recorded yet: using the configured default for the category/);
    assert.match(refused.stderr, /Use --force to run anyway/);

    const forced = await run(
      rw.world,
      ['--category', category, '--config', config, '--force'],
      ['sh', '-c', 'echo RAN'],
    );
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /RAN/);
    assert.match(forced.stderr, /Running anyway \(forced\)/);
  });

  it('removes what compose created through the run’s own DOCKER_HOST (containers and volume of project dstab-<run id>)', async () => {
    const file = join(rw.world.home, 'compose.yml');
    writeFileSync(
      file,
      [
        'version: "2.4"',
        'services:',
        ...['a', 'b'].flatMap((s) => [
          `  ${s}:`,
          `    image: ${TEST_IMAGE}`,
          '    command: ["true"]',
          '    network_mode: none',
          '    volumes: ["data:/data"]',
        ]),
        'volumes:',
        '  data: {}',
      ].join('\n'),
    );
    const r = await run(
      rw.world,
      ['--category', 'compose', '--json'],
      ['sh', '-c', `docker-compose -f "${file}" up --no-start >/dev/null 2>&1`],
    );
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as {
      runId: string;
      cleanup: { removed: { type: string; reason: string }[] };
    };
    const project = `dstab-${report.runId}`;
    // compose went through the run's own DOCKER_HOST: everything it made carries the run's label.
    const removed = report.cleanup.removed
      .filter((e) => e.reason.includes(`run ${report.runId} (its own run label)`))
      .map((e) => e.type)
      .sort();
    assert.deepEqual(
      removed.filter((t) => t !== 'network'),
      ['container', 'container', 'volume'],
    );
    const filters = { label: [`com.docker.compose.project=${project}`] };
    assert.deepEqual(await rw.client.api.listContainers({ all: true, filters }), []);
    assert.deepEqual((await rw.client.api.listVolumes({ filters })).Volumes ?? [], []);
    assert.deepEqual(await rw.client.api.listNetworks({ filters }), []);
  });

  it('a run killed by kill -9 is gone: cleanup stops and removes its running container, the dry run shows it; a live run’s stays until that run ends', async function () {
    this.timeout(120_000);
    const scope = `${TEST_LABEL}=${rw.world.id}`;
    const ready = (n: string) => join(rw.world.home, `ready-${n}`);
    const script = (n: string) =>
      `docker run -d --init --network none --label ${scope} --name ${rw.world.prefix}${n} ${TEST_IMAGE} sleep 300 >/dev/null && touch "${ready(n)}" && while :; do sleep 0.2; done`;
    const exists = (f: string) => () => existsSync(f);
    // Two environments, so the runs go at once; the killed one in its own process group, as a CI job is.
    const live = startCli(rw.world, [
      'run',
      '--dir',
      rw.world.lockDir,
      '--env',
      'live',
      '--category',
      'live',
      '--',
      'sh',
      '-c',
      script('live'),
    ]);
    const killed = spawn(
      process.execPath,
      [
        CLI,
        'run',
        '--dir',
        rw.world.lockDir,
        '--env',
        'killed',
        '--category',
        'killed',
        '--',
        'sh',
        '-c',
        script('killed'),
      ],
      {
        env: rw.world.env(),
        detached: true,
        stdio: 'ignore',
      },
    );
    const killedExit = new Promise((r) => killed.once('exit', r));
    await waitUntil(exists(ready('live')), 30_000, 'the live run’s container');
    await waitUntil(exists(ready('killed')), 30_000, 'the killed run’s container');
    process.kill(-(killed.pid as number), 'SIGKILL');
    await killedExit;
    const byName = async () =>
      new Map(
        (await rw.world.containers(rw.client.api)).map((c) => [
          c.Names[0]?.slice(1 + rw.world.prefix.length),
          c,
        ]),
      );
    assert.equal((await byName()).get('killed')?.State, 'running');

    const cleanup = async (...extra: string[]) => {
      const r = await startCli(rw.world, [
        'cleanup',
        '--json',
        '--older-than',
        '0',
        '--label',
        scope,
        '--lock-dir',
        rw.world.lockDir,
        ...extra,
      ]).done;
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout) as {
        removed: { id: string; name: string; reason: string; stopFirst?: boolean }[];
        kept: { name: string; reason: string }[];
      };
    };
    const dry = await cleanup('--dry-run');
    const real = await cleanup();
    assert.deepEqual(
      dry.removed.map((e) => e.name),
      [`${rw.world.prefix}killed`],
    );
    assert.match(
      dry.removed[0]?.reason ?? '',
      /^running container of run \S+ \(its own run label\), whose process is gone \(its process, pid \d+ on this host \(run record\), is dead\): stopped, then removed$/,
    );
    assert.equal(dry.removed[0]?.stopFirst, true);
    assert.deepEqual(
      real.removed.map((e) => e.id),
      dry.removed.map((e) => e.id),
      'actual == dry run',
    );
    assert.deepEqual(
      dry.kept.map((e) => `${e.name} ${e.reason}`),
      [`${rw.world.prefix}live running`],
    );
    const left = await byName();
    assert.deepEqual([...left.keys()], ['live']);
    assert.equal(left.get('live')?.State, 'running');

    // The live run ends (SIGTERM forwarded to its command): its running container is its leftover.
    live.child.kill('SIGTERM');
    const r = await live.done;
    assert.equal(r.code, 143, r.stderr);
    assert.deepEqual([...(await byName()).keys()], []);
  });

  it('records the command’s name only, unless --record-argv; the lock’s default reason names no argument either', async () => {
    const secret = 'token=s3cr3t';
    const quiet = await run(
      rw.world,
      ['--category', 'argv', '--json'],
      ['sh', '-c', `echo ${secret} >/dev/null`],
    );
    assert.equal(quiet.code, 0, quiet.stderr);
    const loud = await run(
      rw.world,
      ['--category', 'argv', '--record-argv'],
      ['sh', '-c', `echo ${secret} >/dev/null`],
    );
    assert.equal(loud.code, 0, loud.stderr);
    const records = await new RunStore(join(rw.world.home, 'runs.jsonl')).list({ category: 'argv' });
    assert.deepEqual(
      records.map((x) => x.command),
      [['sh'], ['sh', '-c', `echo ${secret} >/dev/null`]],
    );
    const starts = readFileSync(join(rw.world.home, 'runs.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.includes('"kind":"start"'));
    assert.equal(starts.length, 2);
    assert.ok(!starts[0]?.includes(secret), starts[0]);
    const files = readdirSync(rw.world.lockDir)
      .map((f) => join(rw.world.lockDir, f))
      .filter((f) => statSync(f).isFile());
    const events = files.map((f) => readFileSync(f, 'utf8')).join('\n');
    assert.ok(!events.includes(secret), 'the lock folder holds no argument');
  });

  it('with Docker unreachable, fails with exit 2 and the reason after retrying the sample, without running the command', async () => {
    const t = Date.now();
    const r = await run(
      rw.world,
      ['--category', 'down', '--host', `unix://${join(rw.world.home, 'no.sock')}`],
      ['sh', '-c', 'echo RAN'],
    );
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /Docker is not reachable at unix:\/\/.*no\.sock/);
    assert.doesNotMatch(r.stdout, /RAN/);
    // Two retries wait 1 s and 2 s: a transient miss is absorbed, a dead daemon is reported promptly.
    assert.ok(Date.now() - t >= 3000 && Date.now() - t < 20_000, `took ${Date.now() - t} ms`);
  });

  it('rejects a malformed prediction or cleanup setting with a usage error naming it', async () => {
    const config = rw.world.config({ runs: { prediction: { percentile: 'high' } } });
    const r = await run(rw.world, ['--category', 'x', '--config', config], ['true']);
    assert.equal(r.code, 64);
    assert.match(r.stderr, /runs\.prediction\.percentile must be a number from 0 to 100/);
    const cleanup = await run(
      rw.world,
      ['--category', 'x', '--config', rw.world.config({ runs: { cleanup: { includeImages: true } } })],
      ['true'],
    );
    assert.equal(cleanup.code, 64, cleanup.stderr);
    assert.match(
      cleanup.stderr,
      /config runs\.cleanup\.includeImages is not a setting \(use testProjectPatterns, protectLabel, olderThanMs\)/,
    );
  });
});
