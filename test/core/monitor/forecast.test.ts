import { strict as assert } from 'node:assert';
import { DEFAULT_THRESHOLDS } from '../../../src/core/levels';
import { renderForecast } from '../../../src/cli/render';
import { forecast, upcomingCrossings, type Forecast } from '../../../src/core/monitor/forecast';
import { RISING_FORECASTS } from '../../helpers/forecasts';
import { buildSample } from '../../../src/core/monitor/formulas';
import type { Sample } from '../../../src/core/monitor/types';
import { GiB, sampleInputs } from './sampleInputs';

const T0 = Date.parse('2026-12-01T10:00:00Z');

/** A recorded series: one sample every 2 s whose memory percent is `memory(i)` (8 GiB capacity). */
function series(n: number, memory: (i: number) => number): Sample[] {
  return Array.from({ length: n }, (_, i) =>
    buildSample({
      ...sampleInputs(),
      sampledAt: new Date(T0 + i * 2000),
      memoryBytes: (memory(i) / 100) * 8 * GiB,
    }),
  );
}

function memoryOf(f: Forecast[]): Forecast {
  const m = f.find((x) => x.kind === 'memory');
  assert.ok(m);
  return m;
}

describe('forecast (robust trend per resource)', () => {
  it('says "too little data" for an empty history, a few samples, or under a minute of them', () => {
    assert.equal(memoryOf(forecast([], DEFAULT_THRESHOLDS)).trend, 'too-little-data');
    assert.equal(
      memoryOf(
        forecast(
          series(5, () => 10),
          DEFAULT_THRESHOLDS,
        ),
      ).trend,
      'too-little-data',
    );
    assert.deepEqual(
      memoryOf(
        forecast(
          series(20, (i) => 10 + i),
          DEFAULT_THRESHOLDS,
        ),
      ),
      { kind: 'memory', trend: 'too-little-data', samples: 20 },
      '38 s is too short',
    );
  });

  it('calls a flat series with noise steady', () => {
    const noise = [0.3, -0.2, 0.1, -0.4, 0.2, 0, -0.1, 0.4];
    const f = memoryOf(
      forecast(
        series(200, (i) => 40 + (noise[i % noise.length] as number)),
        DEFAULT_THRESHOLDS,
      ),
    );
    assert.ok(f.trend === 'steady', f.trend);
    assert.ok(Math.abs(f.percent - 40) < 0.5, `now ${f.percent}`);
    assert.equal(f.next, undefined, 'no crossing announced');
  });

  it('finds when a steady climb reaches the next level, unmoved by a single spike', () => {
    // 40% rising 1 point a minute over 10 minutes (300 samples), one 95% spike in the middle
    const f = memoryOf(
      forecast(
        series(300, (i) => (i === 150 ? 95 : 40 + (i * 2) / 60)),
        DEFAULT_THRESHOLDS,
      ),
    );
    assert.equal(f.trend, 'rising');
    assert.ok(f.trend === 'rising');
    assert.ok(Math.abs(f.perMinute - 1) < 0.01, `slope ${f.perMinute}`);
    assert.ok(Math.abs(f.percent - 49.97) < 0.1, `now ${f.percent}`);
    assert.equal(f.next?.level, 'WARNING');
    assert.ok(Math.abs((f.next?.inMs ?? 0) - 2000) < 1000, `WARNING at 50% in about 2 s: ${f.next?.inMs}`);
  });

  it('announces a crossing only within the horizon, and never for a falling trend', () => {
    // 10% rising 0.5 points a minute: about 15% after 10 minutes, WARNING at 50% 70 minutes away
    const slow = memoryOf(
      forecast(
        series(300, (i) => 10 + (i * 2 * 0.5) / 60),
        DEFAULT_THRESHOLDS,
      ),
    );
    assert.ok(slow.trend === 'rising' && slow.next === undefined);
    const soon = memoryOf(
      forecast(
        series(300, (i) => 10 + (i * 2 * 0.5) / 60),
        DEFAULT_THRESHOLDS,
        { horizonMs: 24 * 3600_000 },
      ),
    );
    assert.ok(
      soon.trend === 'rising' &&
        soon.next?.level === 'WARNING' &&
        Math.abs(soon.next.inMs - 70 * 60_000) < 60_000,
    );
    const falling = memoryOf(
      forecast(
        series(300, (i) => 80 - (i * 2) / 60),
        DEFAULT_THRESHOLDS,
      ),
    );
    assert.ok(falling.trend === 'falling' && falling.next === undefined && falling.perMinute < 0);
  });

  it('uses per-resource thresholds and looks only at the recent window', () => {
    const old = series(300, () => 5);
    const fresh = series(300, (i) => 60 + (i * 2) / 60).map((s, i) => ({
      ...s,
      sampledAt: new Date(T0 + 3600_000 + i * 2000).toISOString(),
    }));
    const f = memoryOf(
      forecast([...old, ...fresh], { ...DEFAULT_THRESHOLDS, perResource: { memory: { critical: 80 } } }),
    );
    assert.ok(
      f.trend === 'rising' && Math.abs(f.perMinute - 1) < 0.01,
      'the hour-old flat part is outside the window',
    );
    assert.equal(f.next?.level, 'CRITICAL');
    assert.ok(
      Math.abs((f.next?.inMs ?? 0) - 10 * 60_000) < 30_000,
      `CRITICAL at 80% in about 10 min: ${f.next?.inMs}`,
    );
  });

  it('lists the crossings soonest first, and words them for the CLI', () => {
    const all: Forecast[] = [...RISING_FORECASTS, { kind: 'volumes', trend: 'too-little-data', samples: 3 }];
    assert.deepEqual(upcomingCrossings(all), [
      { kind: 'memory', level: 'WARNING', inMs: 240_000, perMinute: 1.5 },
      { kind: 'cpu', level: 'CRITICAL', inMs: 600_000, perMinute: 2 },
    ]);
    assert.equal(
      renderForecast(all).split('\n')[0],
      '  trend: memory WARNING in about 4m 00s at this rate (+1.5 points a minute)',
    );
    assert.equal(upcomingCrossings([{ kind: 'cpu', trend: 'falling', perMinute: -1, percent: 9 }]), 'none');
    assert.equal(
      upcomingCrossings([{ kind: 'cpu', trend: 'too-little-data', samples: 0 }]),
      'too-little-data',
    );
    assert.match(
      renderForecast([{ kind: 'cpu', trend: 'steady', perMinute: 0, percent: 9 }]),
      /no level change within 30m 00s/,
    );
  });
});
