import { indexDocument, type PartDocument } from './anchors';
import { quickPart } from './quickParse';
import {
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  Composer,
  parseAllDocuments,
  parseDocument,
  Parser,
  Schema,
  type Alias,
  type Document,
  type DocumentOptions,
  type Node,
  type Pair,
  type ParseOptions,
  type Scalar,
  type SchemaOptions,
  type YAMLMap,
  YAMLParseError,
} from 'yaml';

/** One parsed YAML document of a compose file, with the node tree kept for exact positions. */
export interface ComposeDocument {
  index: number;
  doc: Document.Parsed;
  /** The top-level mapping, or undefined when the document is not one. */
  root: YAMLMap<Scalar, Node> | undefined;
  /** The whole document as plain data (merge keys resolved, each node converted once); undefined when it has errors. */
  plain: unknown;
  /** The legacy version 1 format: no `version`, `services`, `networks` or `volumes`; every top-level key is a service. */
  legacy: boolean;
  services: ServiceEntry[];
  /** Alias resolution of this document (one index of its anchors). */
  target: (alias: Alias) => Node | undefined;
  /** Its string scalars that hold a `$` (the only ones interpolation can concern). */
  dollarScalars: Scalar[];
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

/**
 * Compose v2's YAML tags: `!reset` removes a value, `!override` replaces instead of merging.
 * Known here so that they are not "unresolved tag" warnings; `!reset` values read as unset.
 */
const COMPOSE_TAGS: NonNullable<SchemaOptions['customTags']> = [
  { tag: '!reset', resolve: () => null },
  { tag: '!reset', collection: 'map', resolve: (map) => map },
  { tag: '!reset', collection: 'seq', resolve: (seq) => seq },
  { tag: '!override', collection: 'map', resolve: (map) => map },
  { tag: '!override', collection: 'seq', resolve: (seq) => seq },
];

// `merge: true`: compose resolves `<<: *anchor` merge keys, YAML 1.2 alone would not.
// `uniqueKeys: false`: yaml compares each new key with every earlier one of its mapping, which is
// quadratic in a mapping's size (a 40k-service file spent most of its time there); duplicateKeys
// does the same check with a set per mapping.
const PARSE_OPTIONS: ParseOptions & DocumentOptions & SchemaOptions = {
  merge: true,
  uniqueKeys: false,
  prettyErrors: false,
  customTags: COMPOSE_TAGS,
};

/** Parses every document of a compose file. Never throws: syntax errors stay on each document. */
export function parseCompose(text: string): ParsedCompose {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { ...PARSE_OPTIONS, lineCounter });
  const list = Array.isArray(docs) ? docs : [];
  return {
    text,
    lineCounter,
    documents: list.map((doc, index) => {
      const { target, dollarScalars } = indexDocument(doc);
      const root = isMap(doc.contents) ? (doc.contents as YAMLMap<Scalar, Node>) : undefined;
      const plain = doc.errors.length > 0 ? undefined : plainDocument(doc, target);
      const legacy = root !== undefined && isLegacyFormat(plain);
      const services = root ? servicesOf(root, plain, legacy) : [];
      return { index, doc, root, plain, legacy, services, target, dollarScalars };
    }),
  };
}

/**
 * The schema of the documents parseCompose makes (YAML 1.2 core, compose's tags, merge keys),
 * built once for the parts of one file: each document would otherwise build its own, which
 * costs more than parsing a small part. Per file, because yaml adds the known tags a document
 * uses (`!!binary`, ...) to its schema.
 */
export function partSchema(): Schema {
  return new Schema({ ...PARSE_OPTIONS, resolveKnownTags: true, schema: 'core' });
}

/**
 * Parses `text` from `start` to `end` as one document, its positions in the whole text's
 * coordinates (the parser starts counting at `start`): a part of a file checked in parts.
 */
export function parsePart(text: string, start: number, end: number, schema: Schema): Document.Parsed {
  const parser = new Parser();
  parser.offset = start;
  const composer = new Composer({ ...PARSE_OPTIONS, schema });
  let doc: Document.Parsed | undefined;
  for (const d of composer.compose(parser.parse(text.slice(start, end)), true, end)) {
    if (doc) {
      const at = d.range.slice(0, 2) as [number, number];
      doc.errors.push(new YAMLParseError(at, 'MULTIPLE_DOCS', 'several documents in a part'));
      break;
    }
    doc = d;
  }
  // compose(…, true) always yields a document, an empty one at the latest.
  return doc as Document.Parsed;
}

/**
 * A part as parsePart reads it, by the light parser (./quickParse) when the part is in its subset
 * and `quick`; the same tree either way.
 */
export function readPart(
  text: string,
  start: number,
  end: number,
  schema: Schema,
  quick: boolean,
): PartDocument {
  const contents = quick ? quickPart(text, start, end, schema) : undefined;
  return contents ? { contents, errors: [], warnings: [] } : parsePart(text, start, end, schema);
}

/** The line starts of a text, as the parser reports them (after every `\n`). */
export function lineCounterOf(text: string): LineCounter {
  const lines = new LineCounter();
  lines.addNewLine(0);
  for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', nl + 1)) lines.addNewLine(nl + 1);
  return lines;
}

/** The services of one compose text as plain data (for `extends.file`); undefined when it has none or does not parse. */
export function plainServices(text: string): Record<string, unknown> | undefined {
  const doc = parseDocument(text, PARSE_OPTIONS);
  const { target } = indexDocument(doc);
  if (doc.errors.length > 0) return undefined;
  const plain = plainDocument(doc, target);
  const services = isLegacyFormat(plain) ? plain : getPath(plain, ['services']);
  return isRecord(services) ? services : undefined;
}

/** docker-compose 1.29 `ConfigFile.version`: no truthy version, services, networks or volumes means version 1. */
export function isLegacyFormat(plain: unknown): boolean {
  if (!isRecord(plain) || Object.keys(plain).length === 0) return false;
  if (isRecord(plain.version)) return true;
  const truthy = (v: unknown): boolean =>
    v !== undefined &&
    v !== null &&
    v !== '' &&
    v !== false &&
    v !== 0 &&
    !(isRecord(v) && Object.keys(v).length === 0);
  return (
    !truthy(plain.version) && !truthy(plain.services) && !truthy(plain.networks) && !truthy(plain.volumes)
  );
}

function servicesOf(root: YAMLMap<Scalar, Node>, plain: unknown, legacy: boolean): ServiceEntry[] {
  const services = legacy ? root : mapGet(root, 'services');
  if (!services || !isMap(services)) return [];
  const plainServices = legacy ? plain : getPath(plain, ['services']);
  return (services as YAMLMap<Scalar, Node>).items.flatMap((pair) => {
    if (!isScalar(pair.key) || typeof pair.key.value === 'symbol') return [];
    const name = String(pair.key.value);
    const node = isMap(pair.value) ? (pair.value as YAMLMap<Scalar, Node>) : undefined;
    const value = isRecord(plainServices) ? plainServices[name] : undefined;
    return [
      { name, pair: pair as Pair<Scalar, Node | null>, node, own: node && isRecord(value) ? value : {} },
    ];
  });
}

/**
 * The pair for `key` as compose reads the mapping: written in it, or else brought in by a `<<`
 * merge key (its sources in order, recursively), with the mapping that holds it.
 */
export function resolvedPair(
  map: YAMLMap<Scalar, Node>,
  key: string,
  target: (alias: Alias) => Node | undefined,
  depth = 0,
): { pair: Pair<Scalar, Node | null>; map: YAMLMap<Scalar, Node>; merged: boolean } | undefined {
  const own = mapPair(map, key);
  if (own) return { pair: own, map, merged: depth > 0 };
  if (depth > 32) return undefined;
  for (const p of map.items) {
    if (!isScalar(p.key) || typeof p.key.value !== 'symbol') continue;
    for (const src of isSeq(p.value) ? p.value.items : [p.value]) {
      const node = isAlias(src) ? target(src) : src;
      if (!isMap(node)) continue;
      const found = resolvedPair(node as YAMLMap<Scalar, Node>, key, target, depth + 1);
      if (found) return { ...found, merged: true };
    }
  }
  return undefined;
}

/**
 * A document as plain data in one pass over its nodes: an anchored node is converted once and
 * shared by its aliases, so the cost is bounded by the document's size, not by the number of
 * aliases times what they point at (yaml's toJS counts expansions and gives up with "Excessive
 * alias count" on real files with a hundred merge keys). The result must never be mutated.
 * Merge keys: explicit keys win, then the sources in order. An alias to a node that is still
 * being converted (a cycle) reads as null.
 */
export function plainDocument(
  doc: Pick<PartDocument, 'contents'>,
  target: (alias: Alias) => Node | undefined,
  anchored?: Map<Node, unknown>,
): unknown {
  // `anchored`: the plain values of anchored nodes, shared by the parts of a file checked in
  // parts (an alias in one part converts an anchor of an earlier part once, as in one document).
  const memo = new Map<Node, unknown>();
  // Only an anchored node can be reached twice (through its aliases): only those are kept.
  const keep = (node: Node, v: unknown): void => {
    if (!node.anchor) return;
    memo.set(node, v);
    anchored?.set(node, v);
  };
  const busy = new Set<Node>();
  const conv = (value: unknown): unknown => {
    if (isAlias(value)) {
      const t = target(value);
      return t && !busy.has(t) ? conv(t) : null;
    }
    if (!isMap(value) && !isSeq(value) && !isScalar(value)) return value ?? null;
    const node = value as Node;
    if (memo.has(node)) return memo.get(node);
    if (anchored?.has(node)) return anchored.get(node);
    if (isScalar(node)) {
      const v = node.tag === '!reset' ? null : node.value;
      keep(node, v);
      return v;
    }
    busy.add(node);
    let out: unknown;
    if (isSeq(node)) out = node.items.map(conv);
    else {
      const obj: Record<string, unknown> = {};
      // Allocated only for the few mappings that have merge keys or `!reset` values.
      let sources: unknown[] | undefined;
      let reset: Set<string> | undefined;
      for (const pair of (node as YAMLMap).items) {
        const key = pair.key;
        if (isScalar(key) && typeof key.value === 'symbol') {
          // `<<`: one source or a sequence of them.
          const v = pair.value;
          sources ??= [];
          if (isSeq(v)) sources.push(...v.items);
          else sources.push(v);
          continue;
        }
        const name = isScalar(key) ? String(key.value) : key === null ? '' : undefined;
        if (name === undefined) continue;
        if ((pair.value as Node | null)?.tag === '!reset') (reset ??= new Set()).add(name);
        else obj[name] = conv(pair.value);
      }
      for (const src of sources ?? []) {
        const v = conv(src);
        if (!isRecord(v)) continue;
        for (const [k, val] of Object.entries(v)) if (!(k in obj) && !reset?.has(k)) obj[k] = val;
      }
      out = obj;
    }
    busy.delete(node);
    keep(node, out);
    return out;
  };
  return conv(doc.contents);
}

/** The pair under `key` in a mapping (only literal keys: merged `<<` keys have no own position). */
export function mapPair(
  map: YAMLMap<Scalar, Node> | undefined,
  key: string,
): Pair<Scalar, Node | null> | undefined {
  return map?.items.find((p) => isScalar(p.key) && p.key.value === key) as
    Pair<Scalar, Node | null> | undefined;
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
