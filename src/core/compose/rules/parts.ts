// The check in parts: a file laid out as compose files are (see ../layout) is parsed one
// top-level section and one service at a time, positions in the whole file's coordinates, so
// that one small YAML document is alive at a time instead of the whole file's node tree. It
// gives the findings the whole-document check gives, in the same order:
// - anchors are indexed across the parts in file order, so an alias resolves to the anchor it
//   resolves to in one document (the last definition before it), and an anchored value is
//   converted to plain data once, shared by every part that merges it;
// - a service with `extends` is checked after the last part, when every service is known;
// - findings keep the order of the whole-document check (top-level findings, then service by
//   service) before the same stable sort.
// It gives up (false, nothing reported) wherever a part could read differently from the whole
// document: a syntax error or warning in a part, a part that is not one key, a duplicate or
// merge (`<<`) key at the top level or among the services, `services` under another spelling,
// a `version` mapping (the legacy format); the caller then checks the whole document.
import { isMap, isScalar, Pair, YAMLMap, type Node, type Scalar } from 'yaml';
import { anchorTarget, indexDocument, type Anchors } from '../anchors';
import { composeLayout } from '../layout';
import { isRecord, lineCounterOf, partSchema, plainDocument, readPart, type ServiceEntry } from '../model';
import type { Finding } from '../findings';
import type { Ctx } from './context';
import { checkServiceEntry, checkTopLevel } from './sections';
import { checkInterpolation } from './syntax';

interface Part {
  pair: Pair<Scalar, Node | null>;
  name: string;
  /** The part as plain data: `{ [name]: value }`, or `{}` when its value is `!reset`. */
  plain: Record<string, unknown>;
}

/**
 * Checks `ctx.text` in parts into `ctx.out`; false when its layout does not allow that. `quick`:
 * parts in the plain subset are read by the light parser (../quickParse), the others by yaml.
 */
export function checkParts(ctx: Ctx, quick = true): boolean {
  const { text } = ctx;
  const layout = composeLayout(text);
  if (!layout) return false;
  ctx.lineCounter = lineCounterOf(text);
  const schema = partSchema();
  const anchors: Anchors = new Map();
  const anchored = new Map<Node, unknown>();
  const target = anchorTarget(anchors);
  const topLevel: Finding[] = [];
  const perService: Finding[] = [];
  const root = new YAMLMap<Scalar, Node>();
  const keys = new Set<string>();
  // Every service's plain value, for `extends`. A text that never says `extends` (nor has a `\`,
  // the only way a double-quoted key can spell it otherwise) has no service that reads another:
  // then only the service being checked is kept (40k services' values held 11 MB of a 5 MB
  // file's peak).
  const keepAll = text.includes('extends') || text.includes('\\');
  let services: Record<string, unknown> = {};
  let serviceCount = 0;
  /** Services with `extends`, and where their findings go in perService. */
  const later: Array<{ at: number; start: number; end: number }> = [];

  const part = (start: number, end: number, own?: Anchors): Part | undefined => {
    const doc = readPart(text, start, end, schema, quick);
    if (doc.errors.length > 0 || doc.warnings.length > 0) return undefined;
    const index = indexDocument(doc, own ?? anchors);
    const top = doc.contents;
    if (doc.errors.length > 0 || !isMap(top) || top.items.length !== 1) return undefined;
    const pair = top.items[0] as Pair<Scalar, Node | null>;
    const key: unknown = pair.key;
    if (!isScalar(key) || typeof key.value === 'symbol' || key.value === '__proto__') return undefined;
    if (own) return { pair, name: String(key.value), plain: {} };
    ctx.out = topLevel;
    checkInterpolation(ctx, index.dollarScalars);
    const plain = plainDocument(doc, target, anchored) as Record<string, unknown>;
    return { pair, name: String(key.value), plain };
  };
  const entry = (p: Part): ServiceEntry => {
    const node = isMap(p.pair.value) ? (p.pair.value as YAMLMap<Scalar, Node>) : undefined;
    const value = services[p.name];
    return { name: p.name, pair: p.pair, node, own: node && isRecord(value) ? value : {} };
  };

  ctx.target = target;
  for (const section of layout) {
    const starts = section.services;
    const p = part(section.start, starts ? (starts[0] as number) : section.end);
    if (!p || keys.has(p.name)) return false;
    keys.add(p.name);
    if (!starts) {
      // `services` written otherwise than `services:` alone on its line; a `version` mapping.
      if (p.name === 'services' || (p.name === 'version' && isRecord(p.plain.version))) return false;
      root.items.push(p.pair as Pair<Scalar, Node>);
      continue;
    }
    if (p.name !== 'services' || (p.pair.value !== null && !isNullScalar(p.pair.value))) return false;
    // Its value is the mapping of the parts below: the top-level rules only ask that it is one.
    root.items.push(new Pair(p.pair.key, new YAMLMap()) as Pair<Scalar, Node>);
    const names = new Set<string>();
    for (let i = 0; i < starts.length; i++) {
      const start = starts[i] as number;
      const end = starts[i + 1] ?? section.end;
      const s = part(start, end);
      if (!s || names.has(s.name)) return false;
      names.add(s.name);
      if (!keepAll) services = {};
      if (Object.prototype.hasOwnProperty.call(s.plain, s.name)) {
        services[s.name] = s.plain[s.name];
        serviceCount++;
      }
      const value = services[s.name];
      if (isMap(s.pair.value) && isRecord(value) && value.extends !== undefined) {
        later.push({ at: perService.length, start, end });
        continue;
      }
      ctx.out = perService;
      checkServiceEntry(ctx, entry(s), false, services);
    }
  }
  // Every service `!reset`: `services` reads as empty, and the file may be in the legacy format.
  if (serviceCount === 0) return false;
  ctx.out = topLevel;
  checkTopLevel(ctx, root, false);
  const out: Finding[][] = [topLevel];
  let from = 0;
  for (const l of later) {
    // Parsed again: its own anchors resolve to the nodes of this parse, earlier ones to the index.
    const own: Anchors = new Map();
    const p = part(l.start, l.end, own);
    if (!p) return false;
    const local = anchorTarget(own);
    ctx.target = (alias) => local(alias) ?? target(alias);
    ctx.out = [];
    checkServiceEntry(ctx, entry(p), false, services);
    out.push(perService.slice(from, l.at), ctx.out);
    from = l.at;
  }
  out.push(from === 0 ? perService : perService.slice(from));
  // No copy of a large file's findings when nothing comes before them.
  if (out.length > 2) ctx.out = out.flat();
  else ctx.out = topLevel.length === 0 ? perService : topLevel.concat(perService);
  ctx.target = target;
  return true;
}

function isNullScalar(node: unknown): boolean {
  return isScalar(node) && node.value === null;
}
