// The dashboard's stored UI state is whatever getState returns: a reload after an old version, or
// a hostile value, must give the defaults for what is missing or malformed, never a broken view.
import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import type * as UiStateModule from '../../src/webview/uiState.js' with { 'resolution-mode': 'import' };
import { importBundled, REPO_ROOT } from '../helpers/bundle';

let mod: typeof UiStateModule;

before(async () => {
  mod = await importBundled<typeof UiStateModule>({
    entryPoints: [join(REPO_ROOT, 'src/webview/uiState.ts')],
  });
});

describe('webview UI state', () => {
  it('gives the defaults for nothing stored, and for a stored value of the wrong shape', () => {
    const defaults = { rangeMs: 15 * 60_000, view: 'charts', consumerSort: 'memory' };
    for (const stored of [
      undefined,
      null,
      42,
      'x',
      [],
      { rangeMs: '5', view: 'pie', consumerSort: '__proto__' },
    ]) {
      assert.deepEqual(mod.parseUiState(stored), defaults, JSON.stringify(stored));
    }
  });

  it('keeps what was stored, and reads null back as the infinite "All" range (JSON has no Infinity)', () => {
    assert.deepEqual(mod.parseUiState({ rangeMs: 300_000, view: 'table', consumerSort: 'cpu' }), {
      rangeMs: 300_000,
      view: 'table',
      consumerSort: 'cpu',
    });
    assert.equal(mod.parseUiState(JSON.parse(JSON.stringify({ rangeMs: Infinity }))).rangeMs, Infinity);
    assert.ok(mod.RANGES.some((r) => r.ms === Infinity));
  });

  it('keeps the samples within the range of the newest one, or all of them for "All"', () => {
    const at = (s: number) => ({ sampledAt: new Date(1_700_000_000_000 + s * 1000).toISOString() });
    const samples = [at(0), at(100), at(250), at(300)] as unknown as Parameters<typeof mod.inRange>[0];
    assert.deepEqual(mod.inRange(samples, 200_000), samples.slice(1));
    assert.equal(mod.inRange(samples, Infinity), samples);
    assert.deepEqual(mod.inRange([], 60_000), []);
  });
});
