// Formatting lives in src/shared (the webview uses it too); re-exported for the core's users.
export { formatBytes, formatDuration } from '../../shared/format';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parses a human duration such as `500ms`, `30s`, `10m`, `1h30m` or a bare number of seconds
 * into milliseconds. Throws a clear error on anything else.
 */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let matched = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(trimmed)) !== null) {
    total += Number(m[1]) * (UNITS[m[2] as string] as number);
    matched += m[0].length;
  }
  if (trimmed.length === 0 || matched !== trimmed.length) {
    throw new Error(
      `invalid duration "${text}": use a number of seconds or forms like 500ms, 30s, 10m, 1h30m`,
    );
  }
  return Math.round(total);
}
