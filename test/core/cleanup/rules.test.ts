import { strict as assert } from 'node:assert';
import type { ContainerFact, ImageFact, NetworkFact, Snapshot, VolumeFact } from '../../../src/core/cleanup';
import { decide, globToRegExp, LevelTrigger, resolveOptions } from '../../../src/core/cleanup';

// Pure rule tests: facts are built by hand, no daemon involved.
const T0 = Date.parse('2026-01-01T12:00:00Z');
const HOUR = 3_600_000;
const RUN = { 'docker-stability.run-id': 'r1' };
const WORKING_DIR = 'com.docker.compose.project.working_dir';
const ANON = (n: number) => n.toString(16).padStart(64, 'a');

function container(id: string, over: Partial<ContainerFact> = {}): ContainerFact {
  return {
    id,
    name: id,
    state: 'exited',
    createdMs: T0 - HOUR,
    createdResolutionMs: 1000,
    labels: {},
    imageId: 'sha256:img',
    networks: [],
    volumeNames: [],
    imageLabels: {},
    ...over,
  };
}
function network(id: string, over: Partial<NetworkFact> = {}): NetworkFact {
  return { id, name: id, createdMs: T0 - HOUR, createdResolutionMs: 1, labels: {}, ...over };
}
function volume(name: string, over: Partial<VolumeFact> = {}): VolumeFact {
  return {
    name,
    createdMs: T0 - HOUR,
    createdResolutionMs: 1000,
    createdAt: new Date(T0 - HOUR).toISOString(),
    labels: {},
    ...over,
  };
}
function image(id: string, over: Partial<ImageFact> = {}): ImageFact {
  return { id, name: id, createdMs: T0 - HOUR, createdResolutionMs: 1000, labels: {}, size: 1234, ...over };
}
function snap(s: Partial<Snapshot>): Snapshot {
  return { containers: [], networks: [], volumes: [], images: [], ...s };
}
/** id -> reason for removed and kept entries. */
function run(
  s: Partial<Snapshot>,
  opts = {},
  started = T0,
): { removed: Map<string, string>; kept: Map<string, string> } {
  const d = decide(snap(s), resolveOptions(opts), started, started);
  return {
    removed: new Map(d.remove.map((e) => [e.id, e.reason])),
    kept: new Map(d.keep.map((e) => [e.id, e.reason])),
  };
}

describe('cleanup rules (pure)', () => {
  it('removes stopped containers of our run label and keeps running, restarting, paused and removing ones', () => {
    const r = run({
      containers: [
        container('exited', { labels: RUN }),
        container('created', { labels: RUN, state: 'created' }),
        container('dead', { labels: RUN, state: 'dead' }),
        container('running', { labels: RUN, state: 'running' }),
        container('restarting', { labels: RUN, state: 'restarting' }),
        container('paused', { labels: RUN, state: 'paused' }),
        container('removing', { labels: RUN, state: 'removing' }),
      ],
    });
    assert.deepEqual([...r.removed.keys()].sort(), ['created', 'dead', 'exited']);
    assert.match(r.removed.get('exited') ?? '', /exited container of run r1/);
    for (const s of ['running', 'restarting', 'paused', 'removing']) assert.equal(r.kept.get(s), s);
  });

  it('never removes an unowned resource, whatever its state or age', () => {
    const r = run(
      {
        containers: [container('c')],
        networks: [network('n')],
        volumes: [volume('v')],
        images: [image('i')],
      },
      { includeImages: true },
    );
    assert.equal(r.removed.size, 0);
    for (const id of ['c', 'n', 'v', 'i']) assert.equal(r.kept.get(id), 'not owned by a test run');
  });

  it('owns compose projects matching the test patterns (default *-test, *_test) and no others', () => {
    const p = (name: string) => ({ 'com.docker.compose.project': name, [WORKING_DIR]: '/ci/checkout' });
    const facts = {
      containers: [
        container('a', { labels: p('shop-test') }),
        container('b', { labels: p('shop_test') }),
        container('c', { labels: p('shop') }),
        container('d', { labels: p('test-shop') }),
      ],
    };
    const r = run(facts);
    assert.deepEqual([...r.removed.keys()].sort(), ['a', 'b']);
    assert.match(r.removed.get('a') ?? '', /compose test project shop-test/);
    assert.equal(r.kept.get('c'), 'compose project shop is not a test project');
    const custom = run(facts, { testProjectPatterns: ['test-*'] });
    assert.deepEqual([...custom.removed.keys()], ['d']);
  });

  it('leaves testcontainers sessions to a live reaper and removes those whose reaper is gone', () => {
    const s = (id: string) => ({ 'org.testcontainers.session-id': id });
    const ryuk = (id: string) => ({ 'org.testcontainers.ryuk': 'true', ...s(id) });
    const r = run({
      containers: [
        container('reaperA', { labels: ryuk('A'), state: 'running' }),
        container('a1', { labels: s('A') }),
        container('reaperB', { labels: ryuk('B'), state: 'exited' }),
        container('b1', { labels: s('B') }),
        container('reuse', { labels: { ...s('B'), 'org.testcontainers.container-hash': 'h' } }),
        container('javaC', { labels: { 'org.testcontainers.sessionId': 'C' } }),
      ],
      networks: [network('netA', { labels: s('A') }), network('netB', { labels: s('B') })],
      volumes: [volume('volA', { labels: s('A') }), volume('volB', { labels: s('B') })],
    });
    assert.deepEqual([...r.removed.keys()].sort(), ['b1', 'javaC', 'netB', 'volB']);
    assert.equal(r.kept.get('a1'), 'testcontainers session A has a live reaper');
    assert.equal(r.kept.get('netA'), 'testcontainers session A has a live reaper');
    assert.equal(r.kept.get('reaperA'), 'testcontainers reaper (never removed)');
    assert.equal(r.kept.get('reaperB'), 'testcontainers reaper (never removed)');
    assert.equal(r.kept.get('reuse'), 'testcontainers reusable container (never removed)');
  });

  it('keeps every testcontainers session while a reaper without a session label runs', () => {
    const r = run({
      containers: [
        container('ryuk', { labels: { 'org.testcontainers.ryuk': 'true' }, state: 'running' }),
        container('x', { labels: { 'org.testcontainers.session-id': 'X' } }),
      ],
    });
    assert.equal(r.removed.size, 0);
    assert.match(r.kept.get('x') ?? '', /reaper of unknown session is running/);
  });

  it('honours the protect label (default and configured) on every resource type', () => {
    const prot = { ...RUN, 'docker-stability.protect': 'true' };
    const facts = {
      containers: [container('c', { labels: prot })],
      networks: [network('n', { labels: prot })],
      volumes: [volume('v', { labels: prot })],
      images: [image('i', { labels: prot })],
    };
    const r = run(facts, { includeImages: true });
    assert.equal(r.removed.size, 0);
    for (const id of ['c', 'n', 'v', 'i'])
      assert.equal(r.kept.get(id), 'protected by docker-stability.protect=true');
    const custom = run(
      {
        containers: [
          container('c', { labels: { ...RUN, keep: 'true' } }),
          container('d', { labels: { ...RUN, keep: 'false' } }),
        ],
      },
      { protectLabel: 'keep' },
    );
    assert.deepEqual([...custom.removed.keys()], ['d']);
  });

  it('keeps what is younger than the age floor and what was created after the pass began', () => {
    const r = run(
      {
        containers: [
          container('old', { labels: RUN, createdMs: T0 - 11 * 60_000 }),
          container('young', { labels: RUN, createdMs: T0 - 5 * 60_000 }),
          // listed to the second: created in the second the pass began, so possibly after it
          container('sameSecond', { labels: RUN, createdMs: T0 }),
          container('exactBefore', { labels: RUN, createdMs: T0 - 1, createdResolutionMs: 1 }),
          container('after', { labels: RUN, createdMs: T0 + 5, createdResolutionMs: 1 }),
        ],
        networks: [network('youngNet', { labels: RUN, createdMs: T0 - 60_000 })],
        volumes: [volume('unknownVol', { labels: RUN, createdMs: Number.NaN })],
      },
      { olderThanMs: 10 * 60_000 },
    );
    assert.deepEqual([...r.removed.keys()], ['old']);
    assert.equal(r.kept.get('young'), 'younger than 10m 00s (age 4m 59s)');
    assert.equal(r.kept.get('sameSecond'), 'created after the cleanup pass began');
    assert.equal(r.kept.get('after'), 'created after the cleanup pass began');
    assert.match(r.kept.get('exactBefore') ?? '', /younger than/);
    assert.match(r.kept.get('youngNet') ?? '', /younger than/);
    assert.equal(r.kept.get('unknownVol'), 'creation time unknown');
    const noFloor = run(
      { containers: [container('exactBefore', { labels: RUN, createdMs: T0 - 1, createdResolutionMs: 1 })] },
      { olderThanMs: 0 },
    );
    assert.deepEqual([...noFloor.removed.keys()], ['exactBefore']);
  });

  it('removes owned networks only when no kept container (running or stopped) is attached, never predefined ones', () => {
    const r = run({
      containers: [
        container('gone', { labels: RUN, networks: ['n-freed'] }),
        // a container that never started links to its network by name only
        container('kept', { networks: ['name-of-n-stopped'] }),
        container('live', { labels: RUN, state: 'running', networks: ['n-running'] }),
      ],
      networks: ['n-free', 'n-freed', 'n-running']
        .map((id) => network(id, { labels: RUN }))
        .concat([
          network('n-stopped', { name: 'name-of-n-stopped', labels: RUN }),
          network('bridge', { name: 'bridge', labels: RUN }),
          network('n-unowned'),
        ]),
    });
    assert.deepEqual([...r.removed.keys()].sort(), ['gone', 'n-free', 'n-freed']);
    assert.equal(r.removed.get('n-free'), 'unused network of run r1 (its own run label)');
    assert.equal(r.kept.get('n-stopped'), 'attached to kept (exited)');
    assert.equal(r.kept.get('n-running'), 'attached to live (running)');
    assert.equal(r.kept.get('bridge'), 'predefined network');
    assert.equal(r.kept.get('n-unowned'), 'not owned by a test run');
  });

  it('removes owned volumes only when no kept container mounts them, counting containers outside the scope', () => {
    const scope = { fixture: 'f1' };
    const r = run(
      {
        containers: [
          container('live', { labels: { ...RUN, ...scope }, state: 'running', volumeNames: ['v-running'] }),
          container('other', { labels: { ...scope }, volumeNames: ['v-unowned-user'] }),
          container('outsider', { volumeNames: ['v-outside-user'] }),
          container('gone', { labels: { ...RUN, ...scope }, volumeNames: ['v-freed'] }),
        ],
        volumes: ['v-running', 'v-unowned-user', 'v-outside-user', 'v-freed', 'v-free']
          .map((n) => volume(n, { labels: { ...RUN, ...scope } }))
          .concat([volume('v-notscoped', { labels: RUN })]),
      },
      { scope },
    );
    assert.deepEqual([...r.removed.keys()].sort(), ['gone', 'v-free', 'v-freed']);
    assert.equal(r.kept.get('v-running'), 'mounted by live (running)');
    assert.equal(r.kept.get('v-unowned-user'), 'mounted by other (exited)');
    assert.equal(r.kept.get('v-outside-user'), 'mounted by outsider (exited)');
    // out of scope: neither removed nor listed, and the outsider container is not listed either
    assert.ok(!r.kept.has('v-notscoped') && !r.removed.has('v-notscoped') && !r.kept.has('outsider'));
  });

  it('considers images only when asked, and only owned ones no kept container uses', () => {
    const facts = {
      containers: [container('user', { imageId: 'i-used' })],
      images: [image('i-free', { labels: RUN }), image('i-used', { labels: RUN }), image('i-user')],
    };
    assert.equal(
      run(facts).removed.size + run(facts).kept.size,
      1,
      'without includeImages only the container is listed',
    );
    const r = run(facts, { includeImages: true });
    assert.deepEqual([...r.removed.keys()], ['i-free']);
    assert.equal(r.removed.get('i-free'), 'dangling image of run r1 (its own run label)');
    assert.equal(r.kept.get('i-used'), 'used by user (exited)');
    assert.equal(r.kept.get('i-user'), 'not owned by a test run');
  });

  it('never owns by creation time: an unlabelled resource made during a run is nobody’s', () => {
    const during = { createdMs: T0 - HOUR / 2 };
    const r = run(
      {
        containers: [container('mine', { labels: RUN }), container('colleague', during)],
        volumes: [volume('pgdata', during)],
        networks: [network('colleague-net', during)],
      },
      { runId: 'r1' },
    );
    assert.deepEqual([...r.removed.keys()], ['mine']);
    for (const id of ['colleague', 'pgdata', 'colleague-net'])
      assert.equal(r.kept.get(id), 'not part of run r1', id);
  });

  it('an ownership label inherited from the image’s LABEL owns nothing; one set on the container does', () => {
    const session = { 'org.testcontainers.session-id': 's1' };
    const project = { 'com.docker.compose.project': 'x-test', [WORKING_DIR]: '/ci/checkout' };
    const r = run({
      containers: [
        container('inherited-run', { labels: { ...RUN, a: '1' }, imageLabels: RUN }),
        container('inherited-session', { labels: session, imageLabels: session }),
        container('inherited-project', {
          labels: project,
          imageLabels: { 'com.docker.compose.project': 'x-test' },
        }),
        // the image says one run, the container was labelled with another at creation
        container('overridden', { labels: RUN, imageLabels: { 'docker-stability.run-id': 'image-build' } }),
        container('image-unknown', { labels: RUN, imageLabels: undefined }),
      ],
    });
    assert.deepEqual([...r.removed.keys()], ['overridden']);
    assert.equal(
      r.kept.get('inherited-run'),
      "docker-stability.run-id=r1 comes from its image's LABEL, which owns nothing",
    );
    assert.match(
      r.kept.get('inherited-session') ?? '',
      /org\.testcontainers\.session-id=s1 comes from its image's LABEL/,
    );
    assert.match(
      r.kept.get('inherited-project') ?? '',
      /com\.docker\.compose\.project=x-test comes from its image's LABEL/,
    );
    assert.match(r.kept.get('image-unknown') ?? '', /its image cannot be read/);
  });

  it('a compose project named after its folder is no proof of a test project, nor one whose containers do not say', () => {
    const proj = (name: string, dir?: string) => ({
      'com.docker.compose.project': name,
      ...(dir ? { [WORKING_DIR]: dir } : {}),
    });
    const r = run(
      {
        containers: [
          container('folder', { labels: proj('shop-test', '/home/ann/shop-test') }),
          container('folder-v1', { labels: proj('mytest', '/home/ann/My Test') }),
          container('chosen', { labels: proj('it-test', '/ci/checkout') }),
        ],
        volumes: [
          volume('shop-test_pgdata', { labels: proj('shop-test') }),
          volume('it-test_data', { labels: proj('it-test') }),
          volume('gone-test_data', { labels: proj('gone-test') }),
        ],
      },
      { testProjectPatterns: ['*-test', '*test'] },
    );
    assert.deepEqual([...r.removed.keys()].sort(), ['chosen', 'it-test_data']);
    assert.equal(
      r.removed.get('chosen'),
      "exited container of compose test project it-test (name chosen, not its folder's)",
    );
    assert.equal(
      r.kept.get('folder'),
      'compose project shop-test is named after its folder /home/ann/shop-test, which is no proof of a test project',
    );
    assert.match(r.kept.get('folder-v1') ?? '', /named after its folder \/home\/ann\/My Test/);
    assert.match(r.kept.get('shop-test_pgdata') ?? '', /named after its folder/);
    assert.equal(
      r.kept.get('gone-test_data'),
      "compose project gone-test: no container of it says whether its name was chosen or is its folder's",
    );
  });

  it('removes the anonymous volumes of removed containers as volumes of their own, after their own checks', () => {
    const anon = [1, 2, 3, 4, 5].map(ANON);
    const r = run(
      {
        containers: [
          container('gone', {
            labels: RUN,
            volumeNames: anon.slice(0, 4),
            anonymousVolumes: anon.slice(0, 4),
          }),
          // mounts the second one by name: another user
          container('other-user', { volumeNames: [anon[1] as string] }),
          container('kept-running', {
            labels: RUN,
            state: 'running',
            volumeNames: [anon[4] as string],
            anonymousVolumes: [anon[4] as string],
          }),
        ],
        volumes: [
          volume(anon[0] as string),
          volume(anon[1] as string),
          volume(anon[2] as string, { labels: { 'docker-stability.protect': 'true' } }),
          volume(anon[3] as string, { createdMs: T0 - 60_000 }),
          volume(anon[4] as string),
        ],
      },
      { olderThanMs: 10 * 60_000 },
    );
    assert.deepEqual([...r.removed.keys()].sort(), ['gone', anon[0]].sort());
    assert.equal(
      r.removed.get(anon[0] as string),
      'unmounted volume of container gone, which this pass removes (anonymous volume)',
    );
    assert.equal(r.kept.get(anon[1] as string), 'mounted by other-user (exited)');
    assert.equal(r.kept.get(anon[2] as string), 'protected by docker-stability.protect=true');
    assert.match(r.kept.get(anon[3] as string) ?? '', /^younger than/);
    assert.equal(r.kept.get(anon[4] as string), 'not owned by a test run');
  });

  it('a running container of a run whose process is gone is an orphan to stop and remove; never a protected or unowned one', () => {
    const gone = 'its process, pid 4242 on this host (label), is dead';
    const r = run(
      {
        containers: [
          container('orphan', { labels: RUN, state: 'running', ownerGone: gone }),
          container('orphan-paused', { labels: RUN, state: 'paused', ownerGone: gone }),
          container('alive', { labels: RUN, state: 'running' }),
          container('protected', {
            labels: { ...RUN, 'docker-stability.protect': 'true' },
            state: 'running',
            ownerGone: gone,
          }),
          container('inherited', { labels: RUN, imageLabels: RUN, state: 'running', ownerGone: gone }),
          container('removing', { labels: RUN, state: 'removing', ownerGone: gone }),
          container('young', { labels: RUN, state: 'running', ownerGone: gone, createdMs: T0 - 1000 }),
        ],
      },
      { olderThanMs: 60_000 },
    );
    const d = decide(
      snap({ containers: [container('orphan', { labels: RUN, state: 'running', ownerGone: gone })] }),
      resolveOptions(),
      T0,
    );
    assert.equal(d.remove[0]?.stopFirst, true);
    assert.deepEqual([...r.removed.keys()].sort(), ['orphan', 'orphan-paused']);
    assert.equal(
      r.removed.get('orphan'),
      `running container of run r1 (its own run label), whose process is gone (${gone}): stopped, then removed`,
    );
    assert.equal(r.kept.get('alive'), 'running');
    assert.match(r.kept.get('protected') ?? '', /^protected by/);
    assert.match(r.kept.get('inherited') ?? '', /comes from its image's LABEL/);
    assert.equal(r.kept.get('removing'), 'removing');
    assert.match(r.kept.get('young') ?? '', /^younger than/);
  });

  it('rejects invalid options with a clear message', () => {
    assert.throws(
      () => resolveOptions({ olderThanMs: -1 }),
      /olderThanMs must be a number of milliseconds >= 0/,
    );
    assert.throws(
      () => resolveOptions({ testProjectPatterns: [' '] }),
      /testProjectPatterns must be non-empty globs/,
    );
    assert.throws(() => resolveOptions({ endedRuns: [''] }), /endedRuns must be a list of run ids/);
    assert.throws(() => resolveOptions({ runsFile: ' ' }), /runsFile must be a file path/);
    assert.throws(() => resolveOptions({ protectLabel: '' }), /protectLabel/);
    assert.deepEqual(resolveOptions(), {
      olderThanMs: 600_000,
      includeImages: false,
      testProjectPatterns: ['*-test', '*_test'],
      protectLabel: 'docker-stability.protect',
      scope: {},
      runId: undefined,
      endedRuns: [],
      runsFile: undefined,
    });
  });

  it('compiles project globs with * and ? and treats everything else literally', () => {
    assert.ok(globToRegExp('*-test').test('shop-test'));
    assert.ok(!globToRegExp('*-test').test('shop-test2'));
    assert.ok(globToRegExp('ci?-*').test('ci1-x'));
    assert.ok(!globToRegExp('a.b').test('axb'));
  });
});

describe('automatic cleanup trigger (pure)', () => {
  it('fires once when the level rises to the trigger level, not again while it stays there', () => {
    const t = new LevelTrigger('CRITICAL', 1000);
    assert.equal(t.observe('SAFE', 0), false);
    assert.equal(t.observe('WARNING', 1), false);
    assert.equal(t.observe('CRITICAL', 2), true);
    t.finished(3);
    assert.equal(t.observe('EMERGENCY', 5000), false, 'still high: no new rise');
    assert.equal(t.observe('WARNING', 5001), false);
    assert.equal(t.observe('CRITICAL', 5002), true, 'a new rise after the cooldown fires again');
  });

  it('fires on a first sample that is already high, never while a pass runs', () => {
    const t = new LevelTrigger('WARNING', 0);
    assert.equal(t.observe('CRITICAL', 0), true);
    assert.equal(t.observe('SAFE', 1), false);
    assert.equal(t.observe('CRITICAL', 2), false, 'the previous pass has not finished');
    t.finished(3);
    assert.equal(t.observe('CRITICAL', 4), true, 'the rise seen while running is acted on after it');
  });

  it('remembers a rise during the cooldown and fires when the cooldown ends if the level is still high', () => {
    const t = new LevelTrigger('CRITICAL', 1000);
    assert.equal(t.observe('CRITICAL', 0), true);
    t.finished(100);
    assert.equal(t.observe('SAFE', 200), false);
    assert.equal(t.observe('CRITICAL', 300), false, 'in cooldown');
    assert.equal(t.observe('CRITICAL', 1099), false, 'still in cooldown');
    assert.equal(t.observe('CRITICAL', 1100), true);
    t.finished(1200);
    assert.equal(t.observe('SAFE', 1300), false);
    assert.equal(t.observe('CRITICAL', 1400), false);
    assert.equal(t.observe('SAFE', 2300), false, 'dropped before the cooldown ended: nothing to do');
  });

  it('rejects a negative cooldown', () => {
    assert.throws(() => new LevelTrigger('CRITICAL', -1), /cooldownMs must be/);
  });
});
