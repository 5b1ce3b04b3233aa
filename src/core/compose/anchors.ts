// Anchors and the one walk over a parsed document that indexes them (and what else the rules
// need from every node), shared by the whole-document check and the check in parts.
import {
  isMap,
  isScalar,
  isSeq,
  YAMLParseError,
  type Alias,
  type Document,
  type Node,
  type Pair,
  type Scalar,
  type YAMLMap,
} from 'yaml';

export interface DocumentIndex {
  target: (alias: Alias) => Node | undefined;
  dollarScalars: Scalar[];
}

/** What the walk and the conversion need of a document: yaml's, or a part's from the light parser (../quickParse). */
export type PartDocument = Pick<Document.Parsed, 'contents' | 'errors' | 'warnings'>;

/** Anchor definitions by name, each with the offset it starts at, in the order of the text. */
export type Anchors = Map<string, Array<{ at: number; node: Node }>>;

/** Alias resolution over an anchor index: the last definition before the alias (YAML lets an anchor be redefined). */
export function anchorTarget(anchors: Anchors): (alias: Alias) => Node | undefined {
  return (alias) => {
    const at = alias.range?.[0] ?? 0;
    let found: Node | undefined;
    for (const d of anchors.get(alias.source) ?? []) if (d.at < at) found = d.node;
    return found;
  };
}

/**
 * One walk over a document's nodes (yaml's `visit` allocates a frozen path per node, and three
 * walks of a large file cost seconds): duplicate scalar keys of every mapping become the
 * parser's own DUPLICATE_KEY errors (compose refuses them too), anchors are indexed for alias
 * resolution (into `anchors`, which a file checked in parts shares between them), and string
 * scalars holding a `$` are collected for the interpolation rule.
 */
export function indexDocument(doc: PartDocument, anchors: Anchors = new Map()): DocumentIndex {
  const dollarScalars: Scalar[] = [];
  const checkKeys = doc.errors.length === 0;
  const stack: unknown[] = [doc.contents];
  while (stack.length > 0) {
    const node = stack.pop();
    if (!isMap(node) && !isSeq(node) && !isScalar(node)) continue;
    if (node.anchor) {
      const list = anchors.get(node.anchor) ?? [];
      list.push({ at: node.range?.[0] ?? 0, node });
      anchors.set(node.anchor, list);
    }
    if (isScalar(node)) {
      if (typeof node.value === 'string' && node.value.includes('$')) dollarScalars.push(node);
      continue;
    }
    if (isSeq(node)) {
      for (let i = node.items.length - 1; i >= 0; i--) stack.push(node.items[i]);
      continue;
    }
    const seen = checkKeys ? new Set<unknown>() : undefined;
    const items = (node as YAMLMap).items;
    for (let i = items.length - 1; i >= 0; i--) {
      const pair = items[i] as Pair;
      stack.push(pair.value, pair.key);
    }
    for (const pair of items) {
      const key = pair.key;
      if (!seen || !isScalar(key) || typeof key.value === 'symbol') continue;
      if (seen.has(key.value)) {
        const at = key.range?.[0] ?? 0;
        doc.errors.push(
          new YAMLParseError([at, key.range?.[1] ?? at], 'DUPLICATE_KEY', 'Map keys must be unique'),
        );
      } else seen.add(key.value);
    }
  }
  return { target: anchorTarget(anchors), dollarScalars };
}
