import * as assert from 'node:assert/strict';
import {
  lockQueueView,
  MAX_QUEUE_VIEW,
  parseWebviewMessage,
  waiterState,
  type QueuedWaiterLike,
} from '../../src/shared/protocol';

describe('webview protocol validation (host side)', () => {
  it('accepts each known message and drops unknown fields', () => {
    assert.deepEqual(parseWebviewMessage({ type: 'ready', extra: 1 }), { type: 'ready' });
    assert.deepEqual(parseWebviewMessage({ type: 'forceRelease', name: 'test', evil: '<x>' }), {
      type: 'forceRelease',
      name: 'test',
    });
    assert.deepEqual(parseWebviewMessage({ type: 'command', command: 'cleanUpNow' }), {
      type: 'command',
      command: 'cleanUpNow',
    });
    assert.deepEqual(
      parseWebviewMessage({ type: 'rendered', samples: 3, latest: '2026-01-01T00:00:00.000Z' }),
      {
        type: 'rendered',
        samples: 3,
        latest: '2026-01-01T00:00:00.000Z',
      },
    );
  });

  it('rejects non-objects, unknown types and commands outside the allowed set with a reason', () => {
    for (const bad of [
      null,
      'ready',
      42,
      [],
      { type: 'nope' },
      { type: 'command', command: 'workbench.action.terminal.new' },
    ]) {
      const r = parseWebviewMessage(bad);
      assert.equal(typeof r, 'string', `accepted ${JSON.stringify(bad)}`);
    }
    assert.match(parseWebviewMessage({ type: 'command', command: 'rm' }) as string, /not allowed/);
  });

  it('rejects lock names that could escape the lock folder', () => {
    for (const name of ['../etc', '/abs', '', 'a/b', 42, 'x'.repeat(65)]) {
      assert.equal(
        typeof parseWebviewMessage({ type: 'forceRelease', name }),
        'string',
        `accepted ${JSON.stringify(name)}`,
      );
    }
  });

  it('rejects a rendered count that is not a non-negative integer', () => {
    for (const samples of [-1, 1.5, '3', NaN])
      assert.equal(typeof parseWebviewMessage({ type: 'rendered', samples }), 'string');
  });

  it('accepts the drawn counts of the diagnosis panels and rejects malformed ones', () => {
    const drawn = { consumers: 3, diskPoints: 10, incidents: 1 };
    assert.deepEqual(
      parseWebviewMessage({ type: 'rendered', samples: 5, drawn: { ...drawn, extra: '<b>' } }),
      {
        type: 'rendered',
        samples: 5,
        latest: undefined,
        drawn,
      },
    );
    for (const bad of [
      null,
      'x',
      { ...drawn, consumers: -1 },
      { ...drawn, incidents: '1' },
      { consumers: 1 },
    ])
      assert.equal(typeof parseWebviewMessage({ type: 'rendered', samples: 5, drawn: bad }), 'string');
  });
});

describe('webview protocol: the opening marks', () => {
  const marks = {
    page: 1_764_000_000_000,
    bundle: 1_764_000_000_100,
    script: 1_764_000_000_110,
    ready: 1_764_000_000_120,
    snapshot: 1_764_000_000_300,
    charts: 1_764_000_000_380,
    frame: 1_764_000_000_390.5,
  };

  it('accepts the seven marks and drops anything else', () => {
    assert.deepEqual(parseWebviewMessage({ type: 'opened', marks: { ...marks, evil: '<b>' }, x: 1 }), {
      type: 'opened',
      marks,
    });
  });

  it('rejects missing marks and anything that is no time in Unix ms', () => {
    const missing: Partial<typeof marks> = { ...marks };
    delete missing.frame;
    for (const bad of [
      undefined,
      null,
      'marks',
      missing,
      { ...marks, page: '1764000000000' },
      { ...marks, frame: Number.NaN },
      { ...marks, frame: Number.POSITIVE_INFINITY },
      { ...marks, script: 12 },
      { ...marks, script: 1e15 },
    ])
      assert.match(
        parseWebviewMessage({ type: 'opened', marks: bad }) as string,
        /^opened: /,
        `accepted ${JSON.stringify(bad)}`,
      );
  });
});

describe('lock view: the queue of waiters', () => {
  const waiter = (position: number, over: Partial<QueuedWaiterLike> = {}): QueuedWaiterLike => ({
    position,
    mode: 'exclusive',
    holder: {
      user: 'alice',
      host: 'ci-7',
      pid: 100 + position,
      why: 'e2e',
      acquiredAt: '2026-12-02T12:00:00.000Z',
    },
    waitingFor: 'exclusive holder bob@ci-7 (pid 42)',
    blocked: false,
    reserved: false,
    ...over,
  });

  it('is absent when nobody waits', () => {
    assert.deepEqual(lockQueueView(undefined), {});
    assert.deepEqual(lockQueueView([]), {});
  });

  it('keeps place, who, mode, what each waits for and since when, in queue order, and nothing else', () => {
    const v = lockQueueView([
      {
        ...waiter(1),
        heartbeatAgeMs: 5,
        holder: { ...waiter(1).holder, token: 'secret' },
      } as QueuedWaiterLike,
      waiter(2, { mode: 'shared', blocked: true, waitingFor: 'room: memory would reach 95%' }),
    ]);
    assert.equal(v.queueLength, undefined);
    assert.deepEqual(v.queue, [
      {
        position: 1,
        mode: 'exclusive',
        who: { user: 'alice', host: 'ci-7', pid: 101, why: 'e2e' },
        since: '2026-12-02T12:00:00.000Z',
        waitingFor: 'exclusive holder bob@ci-7 (pid 42)',
        blocked: false,
        reserved: false,
      },
      {
        position: 2,
        mode: 'shared',
        who: { user: 'alice', host: 'ci-7', pid: 102, why: 'e2e' },
        since: '2026-12-02T12:00:00.000Z',
        waitingFor: 'room: memory would reach 95%',
        blocked: true,
        reserved: false,
      },
    ]);
    assert.equal(waiterState(v.queue?.[0] as never), '#1 exclusive');
    assert.equal(waiterState(v.queue?.[1] as never), '#2 shared, no room yet');
  });

  it('lists at most MAX_QUEUE_VIEW waiters, counts the rest, and cuts long ticket text', () => {
    const many = Array.from({ length: MAX_QUEUE_VIEW + 5 }, (_, i) =>
      waiter(i + 1, {
        waitingFor: 'x'.repeat(10_000),
        holder: { ...waiter(1).holder, why: 'y'.repeat(5000) },
      }),
    );
    const v = lockQueueView(many);
    assert.equal(v.queue?.length, MAX_QUEUE_VIEW);
    assert.equal(v.queueLength, MAX_QUEUE_VIEW + 5);
    assert.equal(v.queue?.[MAX_QUEUE_VIEW - 1]?.position, MAX_QUEUE_VIEW);
    for (const w of v.queue ?? []) {
      assert.ok(w.waitingFor.length <= 200 && w.waitingFor.endsWith('…'));
      assert.ok(w.who.why.length <= 200);
    }
  });
});
