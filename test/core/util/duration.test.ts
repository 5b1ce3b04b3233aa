import { strict as assert } from 'node:assert';
import { formatBytes, formatDuration, parseDuration } from '../../../src/core/util/duration';

describe('durations and sizes', () => {
  it('parses unit forms, compound forms and bare seconds into milliseconds', () => {
    const cases: Array<[string, number]> = [
      ['500ms', 500],
      ['30s', 30_000],
      ['10m', 600_000],
      ['2h', 7_200_000],
      ['1d', 86_400_000],
      ['1h30m', 5_400_000],
      ['1m30s250ms', 90_250],
      ['1.5s', 1500],
      ['0.25m', 15_000],
      ['45', 45_000],
      ['2.5', 2500],
      ['  10s ', 10_000],
      ['0s', 0],
    ];
    for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, text);
  });

  it('rejects empty, signed, unit-less compound, unknown-unit and spaced forms with a clear error', () => {
    for (const bad of ['', '   ', '-5s', '10x', 's', '1h 30m', '10 s', '5sec', 'ten', '1e3', '1h30']) {
      assert.throws(
        () => parseDuration(bad),
        (err: Error) =>
          err.message.startsWith(`invalid duration "${bad}": use a number of seconds or forms like`),
        JSON.stringify(bad),
      );
    }
  });

  it('formats milliseconds compactly at each scale', () => {
    const cases: Array<[number, string]> = [
      [0, '0ms'],
      [-5, '0ms'],
      [849.6, '850ms'],
      [999, '999ms'],
      [1000, '1s'],
      [59_999, '59s'],
      [60_000, '1m 00s'],
      [245_000, '4m 05s'],
      [3_600_000, '1h 00m'],
      [7_380_000, '2h 03m'],
      [86_400_000, '1d 00h'],
      [90_000_000, '1d 01h'],
    ];
    for (const [ms, text] of cases) assert.equal(formatDuration(ms), text, String(ms));
    assert.equal(formatDuration(Number.NaN), '?');
    assert.equal(formatDuration(Number.POSITIVE_INFINITY), '?');
  });

  it('round-trips what it formats at whole-unit values', () => {
    for (const ms of [500, 12_000, 600_000, 7_200_000]) {
      const text = formatDuration(ms).replace(/ /g, '');
      assert.equal(parseDuration(text), ms, text);
    }
  });

  it('formats bytes in binary units with one decimal below 100', () => {
    const cases: Array<[number, string]> = [
      [0, '0 B'],
      [1023, '1023 B'],
      [1024, '1.0 KiB'],
      [1536, '1.5 KiB'],
      [100 * 1024 * 1024, '100 MiB'],
      [52_428_800 * 1.25, '62.5 MiB'],
      [24_105 * 1024 * 1024, '23.5 GiB'],
      [5 * 1024 ** 5, '5120 TiB'],
    ];
    for (const [b, text] of cases) assert.equal(formatBytes(b), text, String(b));
    assert.equal(formatBytes(Number.NaN), '?');
  });
});
