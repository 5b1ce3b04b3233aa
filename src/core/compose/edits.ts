import { isMap, stringify, type Node, type Pair, type Scalar, type YAMLMap, type YAMLSeq } from 'yaml';
import { deepMerge } from './extends';
import { isRecord } from './model';
import type { TextEdit } from './textEdit';

export { applyFix, type TextEdit } from './textEdit';

let lastEol: { text: string; eol: string } | undefined;

export function eolOf(text: string): string {
  // Asked once per fix of a check, of the same text: scanning it each time made checks quadratic.
  if (lastEol?.text !== text) lastEol = { text, eol: text.includes('\r\n') ? '\r\n' : '\n' };
  return lastEol.eol;
}

function lineStart(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

/** Offset just past the end of the line holding `offset` (past its newline, or the text's end). */
function afterLine(text: string, offset: number): number {
  if (offset > 0 && text[offset - 1] === '\n') return offset;
  const nl = text.indexOf('\n', offset);
  return nl < 0 ? text.length : nl + 1;
}

function onlySpaceBefore(text: string, offset: number): boolean {
  return /^[ \t]*$/.test(text.slice(lineStart(text, offset), offset));
}

/** Renders values the way compose v1 (PyYAML, YAML 1.1) reads them back: `"no"`, `"on"`, `"0.25"` stay strings. */
export function renderYaml(value: unknown, flow = false): string {
  return stringify(value, { version: '1.1', lineWidth: 0, collectionStyle: flow ? 'flow' : 'block' }).replace(
    /\n$/,
    '',
  );
}

let lastIndent: { text: string; unit: number } | undefined;

/** The indentation step of the text (the smallest non-zero indentation), 2 if none. */
export function indentUnit(text: string): number {
  // Every fix of a check asks about the same text: scan it once, not once per fix.
  if (lastIndent?.text === text) return lastIndent.unit;
  const unit = scanIndentUnit(text);
  lastIndent = { text, unit };
  return unit;
}

function scanIndentUnit(text: string): number {
  let min = Infinity;
  for (const m of text.matchAll(/^( +)\S/gm)) min = Math.min(min, (m[1] as string).length);
  return Number.isFinite(min) && min <= 8 ? min : 2;
}

/** A bounded cache of rendered YAML: `render` runs once per distinct key until the cache is full. */
function cached(cache: Map<string, string>, key: string, render: () => string): string {
  let text = cache.get(key);
  if (text === undefined) {
    text = render();
    if (cache.size >= 1000) cache.clear();
    cache.set(key, text);
  }
  return text;
}

const shared = new Map<string, string>();

/**
 * One copy of a string that recurs: the titles and texts of the fixes of a large file are the
 * same few strings built again for each service, and each copy held memory until the findings go.
 */
export function interned(text: string): string {
  return cached(shared, text, () => text);
}

const rendered = new Map<string, string>();

/**
 * Values rendered as block YAML at an indentation step, each line indented by `indent` spaces
 * and ended by `eol`. Many services of one file get the same patch at the same indentation:
 * rendering it once per distinct value keeps a large check linear in practice (yaml's stringify
 * costs far more than the JSON key). The cache is bounded.
 */
function blockLines(values: Record<string, unknown>, unit: number, indent: number, eol: string): string {
  return cached(rendered, `${unit}:${indent}:${eol}:${JSON.stringify(values)}`, () => {
    const body = stringify(values, { version: '1.1', lineWidth: 0, indent: unit }).replace(/\n$/, '');
    const pad = ' '.repeat(indent);
    return (
      body
        .split('\n')
        .map((l) => (l.length > 0 ? pad + l : l))
        .join(eol) + eol
    );
  });
}

/**
 * Inserts keys into an existing mapping without touching anything else: block mappings get new
 * lines after their last entry at the entries' indentation, flow mappings get `, key: value`.
 */
export function insertIntoMap(
  text: string,
  map: YAMLMap<Scalar, Node>,
  values: Record<string, unknown>,
): TextEdit | undefined {
  if (Object.keys(values).length === 0 || !map.range) return undefined;
  const eol = eolOf(text);
  if (map.flow || map.items.length === 0) {
    const close = text.lastIndexOf('}', map.range[1] - 1);
    if (close < map.range[0]) return undefined;
    const inner = renderYaml(values, true)
      .replace(/^\{\s*/, '')
      .replace(/\s*\}$/, '');
    const sep = map.items.length > 0 ? ', ' : ' ';
    return { offset: close, length: 0, newText: `${sep}${inner} ` };
  }
  const first = map.items[0] as Pair<Scalar, Node | null>;
  const last = map.items[map.items.length - 1] as Pair<Scalar, Node | null>;
  const keyStart = first.key.range?.[0];
  const lastEnd = last.value?.range?.[1] ?? last.key.range?.[1];
  if (keyStart === undefined || lastEnd === undefined) return undefined;
  const block = blockLines(values, indentUnit(text), keyStart - lineStart(text, keyStart), eol);
  let offset = afterLine(text, lastEnd);
  const needsEol = offset === text.length && !text.endsWith('\n');
  if (needsEol) offset = text.length;
  return { offset, length: 0, newText: needsEol ? eol + block : block };
}

const renderedFlow = new Map<string, string>();

/** Replaces a scalar node's source with a rendered value. */
export function replaceScalar(node: Node, value: unknown): TextEdit | undefined {
  if (!node.range) return undefined;
  // The same few replacements recur across the services of a large file: render each once (bounded).
  const newText = cached(renderedFlow, JSON.stringify(value), () => renderYaml(value, true));
  return { offset: node.range[0], length: node.range[1] - node.range[0], newText };
}

/**
 * Removes one entry from a block mapping. Undefined (no safe edit) for flow mappings and for
 * the only entry of a mapping, which would leave its parent empty.
 */
export function removePair(
  text: string,
  map: YAMLMap<Scalar, Node>,
  pair: Pair<Scalar, Node | null>,
): TextEdit | undefined {
  if (map.flow || map.items.length < 2) return undefined;
  const i = map.items.indexOf(pair as Pair<Scalar, Node>);
  const start = pair.key.range?.[0];
  const end = pair.value?.range?.[1] ?? pair.key.range?.[1];
  if (i < 0 || start === undefined || end === undefined) return undefined;
  const next = map.items[i + 1];
  if (next) {
    // Up to the next key: the removed entry's indentation is reused by the next one.
    const nextStart = (next.key as Scalar).range?.[0];
    if (nextStart === undefined) return undefined;
    return { offset: start, length: nextStart - start, newText: '' };
  }
  if (!onlySpaceBefore(text, start)) return undefined;
  const from = lineStart(text, start);
  return { offset: from, length: afterLine(text, end) - from, newText: '' };
}

/** Removes one item of a block sequence; undefined for flow sequences and for the only item. */
export function removeSeqItem(text: string, seq: YAMLSeq, item: Node): TextEdit | undefined {
  if (seq.flow || seq.items.length < 2 || !item.range) return undefined;
  const dash = text.lastIndexOf('-', item.range[0]);
  if (dash < 0 || !onlySpaceBefore(text, dash)) return undefined;
  const from = lineStart(text, dash);
  return { offset: from, length: afterLine(text, item.range[1]) - from, newText: '' };
}

/**
 * Adds `patch` to the mapping `map` wherever keys are missing, recursing into mappings that
 * exist. Keys the user set (to anything, even a scalar where a mapping is expected) are kept.
 * `plain` is the mapping's value with `<<` merge keys resolved: a key that only comes from a
 * merge is written out whole (merged value + patch), because a literal key replaces the merged
 * one entirely.
 */
export function mergeMissing(
  text: string,
  map: YAMLMap<Scalar, Node>,
  patch: Record<string, unknown>,
  plain: Record<string, unknown> = {},
): TextEdit[] {
  const edits: TextEdit[] = [];
  const missing: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(patch)) {
    const pair = map.items.find((p) => (p.key as Scalar | null)?.value === key);
    const merged = plain[key];
    if (!pair) missing[key] = isRecord(merged) && isRecord(value) ? deepMerge(merged, value) : value;
    else if (isMap(pair.value) && isRecord(value)) {
      edits.push(
        ...mergeMissing(text, pair.value as YAMLMap<Scalar, Node>, value, isRecord(merged) ? merged : {}),
      );
    }
  }
  const insert = insertIntoMap(text, map, missing);
  if (insert) edits.push(insert);
  return edits;
}
