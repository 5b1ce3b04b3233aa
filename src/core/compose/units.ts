/** Value parsing for compose files: sizes, CPUs, interpolation. Pure functions. */

/**
 * True when a value holds a `${VAR}`/`$VAR` interpolation (`$$` is a literal dollar). Such a
 * value is only known at `up` time, so rules skip judging it.
 */
export function hasInterpolation(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  return /\$(\{|[A-Za-z_])/.test(value.replace(/\$\$/g, ''));
}

/** Offsets of `${` without a closing `}`: compose refuses the file ("Invalid interpolation format"). */
export function unclosedInterpolation(value: string): number | undefined {
  const re = /\$\$|\$\{[^}]*(\}|$)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(value)) !== null) {
    if (m[0] !== '$$' && m[1] === '') return m.index;
  }
  return undefined;
}

const BYTE_UNITS: Record<string, number> = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/**
 * Parses a compose byte value (`512M`, `1g`, `256mb`, `1.5G`, a bare number of bytes) the way
 * compose does (binary units, case-insensitive). Undefined for anything else, including variables.
 */
export function parseComposeBytes(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string' || hasInterpolation(value)) return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([bkmgt])?b?\s*$/i.exec(value);
  if (!m) return undefined;
  return Math.round(Number(m[1]) * (BYTE_UNITS[(m[2] ?? 'b').toLowerCase()] as number));
}

export function parseCpus(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string' || hasInterpolation(value) || !/^\s*\d+(\.\d+)?\s*$/.test(value))
    return undefined;
  return Number(value);
}

const PG_UNITS: Record<string, number> = { B: 1, kB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };

/** PostgreSQL memory setting (`128MB`, `1GB`, or a bare number of 8 kB pages) in bytes. */
export function parsePostgresBytes(value: string): number | undefined {
  const m = /^(\d+)\s*(B|kB|MB|GB|TB)?$/.exec(value.trim());
  if (!m) return undefined;
  return Number(m[1]) * (m[2] ? (PG_UNITS[m[2]] as number) : 8192);
}

/** Bytes as a compose size string, in the largest binary unit that divides them evenly. */
export function formatComposeBytes(bytes: number): string {
  for (const [unit, size] of [
    ['G', 1024 ** 3],
    ['M', 1024 ** 2],
    ['K', 1024],
  ] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return String(bytes);
}
