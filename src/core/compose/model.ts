import { dirname, resolve } from 'node:path';
import { hasInterpolation } from './units';
import { isMap, isScalar, LineCounter, parse, parseAllDocuments, type Document, type Node, type Pair, type Scalar, type YAMLMap } from 'yaml';

/** One parsed YAML document of a compose file, with the node tree kept for exact positions. */
export interface ComposeDocument {
  index: number;
  doc: Document.Parsed;
  /** The top-level mapping, or undefined when the document is not one. */
  root: YAMLMap<Scalar, Node> | undefined;
  services: ServiceEntry[];
}

export interface ServiceEntry {
  name: string;
  pair: Pair<Scalar, Node | null>;
  /** The service's mapping, or undefined when its value is not a mapping. */
  node: YAMLMap<Scalar, Node> | undefined;
  /** Its own value as plain data (merge keys `<<` resolved). */
  own: Record<string, unknown>;
}

export interface ParsedCompose {
  text: string;
  lineCounter: LineCounter;
  documents: ComposeDocument[];
}

/** Parses every document of a compose file. Never throws: syntax errors stay on each document. */
export function parseCompose(text: string): ParsedCompose {
  const lineCounter = new LineCounter();
  // `merge: true`: compose resolves `<<: *anchor` merge keys, YAML 1.2 alone would not.
  const docs = parseAllDocuments(text, { keepSourceTokens: true, merge: true, lineCounter, prettyErrors: false });
  const list = Array.isArray(docs) ? docs : [];
  return {
    text,
    lineCounter,
    documents: list.map((doc, index) => {
      const root = isMap(doc.contents) ? (doc.contents as YAMLMap<Scalar, Node>) : undefined;
      return { index, doc, root, services: root ? servicesOf(doc, root) : [] };
    }),
  };
}

function servicesOf(doc: Document.Parsed, root: YAMLMap<Scalar, Node>): ServiceEntry[] {
  const services = mapGet(root, 'services');
  if (!services || !isMap(services)) return [];
  return (services as YAMLMap<Scalar, Node>).items.flatMap((pair) => {
    if (!isScalar(pair.key)) return [];
    const node = isMap(pair.value) ? (pair.value as YAMLMap<Scalar, Node>) : undefined;
    const own = node ? toPlain(node, doc) : {};
    return [{ name: String(pair.key.value), pair: pair as Pair<Scalar, Node | null>, node, own }];
  });
}

export function toPlain(node: Node, doc: Document.Parsed): Record<string, unknown> {
  const value: unknown = node.toJS(doc, { maxAliasCount: 1000 });
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** The pair under `key` in a mapping (only literal keys: merged `<<` keys have no own position). */
export function mapPair(map: YAMLMap<Scalar, Node> | undefined, key: string): Pair<Scalar, Node | null> | undefined {
  return map?.items.find((p) => isScalar(p.key) && p.key.value === key) as Pair<Scalar, Node | null> | undefined;
}

export function mapGet(map: YAMLMap<Scalar, Node> | undefined, key: string): Node | undefined {
  return mapPair(map, key)?.value ?? undefined;
}

/** Walks literal keys; undefined as soon as one is missing or not a mapping. */
export function nodeAt(map: YAMLMap<Scalar, Node> | undefined, path: string[]): Node | undefined {
  let cur: Node | undefined = map;
  for (const key of path) {
    if (!cur || !isMap(cur)) return undefined;
    cur = mapGet(cur as YAMLMap<Scalar, Node>, key);
  }
  return cur;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Reads a nested plain value by keys. */
export function getPath(value: unknown, path: string[]): unknown {
  let cur = value;
  for (const key of path) {
    if (!isRecord(cur)) return undefined;
    cur = cur[key];
  }
  return cur;
}

/** Deep merge for `extends`: mappings merge, everything else is replaced by the extending side. */
export function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
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
export function servicesLoader(fromFile: string, readFile: (path: string) => string | undefined): ServicesLoader {
  return (file) => {
    if (hasInterpolation(file)) return undefined;
    try {
      const text = readFile(resolve(dirname(fromFile), file));
      const services = text === undefined ? undefined : getPath(parse(text, { merge: true, maxAliasCount: 1000 }), ['services']);
      return isRecord(services) ? services : undefined;
    } catch {
      return undefined;
    }
  };
}
