import * as assert from 'node:assert/strict';
import { parseWebviewMessage } from '../../src/shared/protocol';

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
