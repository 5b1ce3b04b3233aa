// `extends`: a service's configuration with what it extends merged in, from its own file or another.
import { dirname, resolve } from 'node:path';
import { isRecord, plainServices } from './model';
import { hasInterpolation } from './units';

/** Deep merge for `extends`: mappings merge, everything else is replaced by the extending side. */
export function deepMerge(
  base: Record<string, unknown>,
  over: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isRecord(b) && isRecord(v) ? deepMerge(b, v) : v;
  }
  return out;
}

/** Loads the services of another compose file named by `extends.file` (relative to the current one). */
export type ServicesLoader = (file: string) => Record<string, unknown> | undefined;

/**
 * A service's configuration with `extends` resolved, or undefined when it depends on a file
 * that cannot be read (no loader, missing file, variables): then nothing can be said about what
 * it lacks. Cycles also give undefined (compose rejects them).
 */
export function effectiveService(
  name: string,
  services: Record<string, unknown>,
  loader?: ServicesLoader,
  seen: Set<string> = new Set(),
): Record<string, unknown> | undefined {
  const own = services[name];
  if (!isRecord(own)) return undefined;
  const ext = own.extends;
  if (ext === undefined) return own;
  const key = `${name}`;
  if (seen.has(key)) return undefined;
  seen.add(key);
  const rest = { ...own };
  delete rest.extends;
  let baseName: unknown;
  let file: unknown;
  if (typeof ext === 'string') baseName = ext;
  else if (isRecord(ext)) {
    baseName = ext.service;
    file = ext.file;
  }
  if (typeof baseName !== 'string') return undefined;
  let base: Record<string, unknown> | undefined;
  if (file === undefined) base = effectiveService(baseName, services, loader, seen);
  else {
    if (typeof file !== 'string' || !loader) return undefined;
    const other = loader(file);
    if (!other) return undefined;
    // A nested extends inside that file resolves against that file's services, with no loader:
    // relative paths there are relative to it, which this loader does not know.
    base = effectiveService(baseName, other, undefined, new Set());
  }
  return base ? deepMerge(base, rest) : undefined;
}

/**
 * A loader for `extends.file` over a synchronous file reader (absolute paths; undefined when
 * missing). Paths holding variables and files that do not parse give undefined.
 */
export function servicesLoader(
  fromFile: string,
  readFile: (path: string) => string | undefined,
): ServicesLoader {
  return (file) => {
    if (hasInterpolation(file)) return undefined;
    const text = readFile(resolve(dirname(fromFile), file));
    return text === undefined ? undefined : plainServices(text);
  };
}
