// A light parser for the parts of a compose file (see rules/parts) that are written in the plain
// subset nearly every service is written in: block mappings and sequences indented with spaces,
// single-line plain and quoted scalars without escapes, single-line flow collections. It builds
// the node tree `yaml` builds for such text (same classes, values, ranges, scalar types and
// formats; a test compares the trees) without yaml's lexer, CST and composer, which cost most of
// the time of a large file's check. Anything outside the subset gives undefined and the part is
// parsed by `yaml`: comments, blank lines between entries, tabs, CR, anchors, aliases, tags, block
// scalars, multi-line scalars, escapes, merge keys, explicit keys, quoted keys, document markers,
// trailing spaces, control or special characters, and whatever would be a YAML error.
import { isScalar, Pair, Scalar, YAMLMap, YAMLSeq, type Node, type ParsedNode, type Schema } from 'yaml';

const SPACE = 32;
const DQUOTE = 34;
const SQUOTE = 39;
const DASH = 45;
const COLON = 58;
const COMMA = 44;
const LBRACKET = 91;
const RBRACKET = 93;
const LBRACE = 123;
const RBRACE = 125;
const BACKSLASH = 92;

/** Characters the subset never contains: tab, CR, `#`, controls, DEL and C1, BOM, line separators, surrogates. */
// eslint-disable-next-line no-control-regex -- control characters are what it looks for
const OUTSIDE = /[\r#\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]/;
/** What a plain scalar may not start with (YAML 1.2 c-indicator), `-` handled apart. */
const INDICATOR = new Set([...'?:,[]{}#&*!|>\'"%@`'].map((c) => c.charCodeAt(0)));
const FLOW_END = new Set([COMMA, RBRACKET, RBRACE, LBRACKET, LBRACE]);
/** Below yaml's longest implicit key (1024 characters): longer keys are left to it. */
const MAX_KEY = 1000;

interface Line {
  /** Where its content starts (after the indentation), ends (before the newline) and the next line starts. */
  content: number;
  end: number;
  next: number;
  indent: number;
}

type Tag = {
  test?: RegExp;
  default?: boolean | 'key';
  format?: string;
  resolve: (value: string, onError: (message: string) => void, options: object) => unknown;
};

/** The schema's tags that resolve plain scalars by their text, once per schema. */
const testedTags = new WeakMap<Schema, Tag[]>();
const RESOLVE_OPTIONS = { intAsBigInt: false };

/**
 * The node tree of `text` from `start` to `end` (a part starting at a line start), positions in
 * the whole text, as `yaml` would compose it; undefined when the part is outside the subset.
 */
export function quickPart(text: string, start: number, end: number, schema: Schema): ParsedNode | undefined {
  const lines = linesOf(text, start, end);
  const last = lines?.[lines.length - 1];
  if (!lines || !last) return undefined;
  // An empty value followed by blank lines: yaml marks it spaceBefore.
  if (last.next < end && text.charCodeAt(last.end - 1) === COLON) return undefined;
  let tags = testedTags.get(schema);
  if (!tags) {
    tags = (schema.tags as unknown as Tag[]).filter((t) => t.default === true && t.test);
    testedTags.set(schema, tags);
  }
  const p = new QuickParser(text, lines, schema, tags);
  const first = lines[0] as Line;
  const root = p.blockMap(first.indent);
  // Every node of the tree has its range: it is a parsed tree.
  return root && p.at === lines.length && !p.failed ? (root as YAMLMap.Parsed) : undefined;
}

/** The lines of the part; undefined for a character or a blank line the subset excludes. */
function linesOf(text: string, start: number, end: number): Line[] | undefined {
  if (OUTSIDE.test(text.slice(start, end))) return undefined;
  const lines: Line[] = [];
  let blank = false;
  for (let pos = start; pos < end;) {
    const nl = text.indexOf('\n', pos);
    const lineEnd = nl < 0 || nl >= end ? end : nl;
    const next = lineEnd < end ? lineEnd + 1 : end;
    let content = pos;
    while (content < lineEnd && text.charCodeAt(content) === SPACE) content++;
    if (content === lineEnd) blank = true;
    else {
      // A blank line between entries, or trailing spaces: yaml keeps them (spaceBefore, ranges).
      if (blank || text.charCodeAt(lineEnd - 1) === SPACE) return undefined;
      lines.push({ content, end: lineEnd, next, indent: content - pos });
    }
    pos = next;
  }
  return lines;
}

class QuickParser {
  at = 0;
  failed = false;
  private readonly onError = (): void => {
    this.failed = true;
  };

  constructor(
    private readonly text: string,
    private readonly lines: Line[],
    private readonly schema: Schema,
    private readonly tags: Tag[],
  ) {}

  blockMap(indent: number): YAMLMap | undefined {
    const { text, lines } = this;
    const map = new YAMLMap(this.schema);
    const from = (lines[this.at] as Line).content;
    let last = from;
    while (this.at < lines.length) {
      const line = lines[this.at] as Line;
      if (line.indent !== indent) break;
      const colon = this.keyEnd(line);
      if (colon < 0) return undefined;
      const key = this.plain(line.content, colon, colon);
      let vs = colon + 1;
      while (vs < line.end && text.charCodeAt(vs) === SPACE) vs++;
      this.at++;
      let value: Node | undefined;
      if (vs === line.end) {
        const below = lines[this.at];
        if (below && below.indent > indent)
          value = this.isSeqItem(below) ? this.blockSeq(below.indent) : this.blockMap(below.indent);
        else if (below && below.indent === indent && this.isSeqItem(below)) value = this.blockSeq(indent);
        else value = this.plain(colon + 1, colon + 1, colon + 1);
      } else {
        value = this.inline(vs, line.end, line.next);
        // A deeper line after a value on the key's line: a multi-line scalar, or an error.
        if ((lines[this.at]?.indent ?? -1) > indent) return undefined;
      }
      if (!value?.range) return undefined;
      map.items.push(new Pair(key, value));
      last = value.range[2];
    }
    if (map.items.length === 0) return undefined;
    map.range = [from, last, last];
    return map;
  }

  private blockSeq(indent: number): YAMLSeq | undefined {
    const { text, lines } = this;
    const seq = new YAMLSeq(this.schema);
    const from = (lines[this.at] as Line).content;
    let last = from;
    while (this.at < lines.length) {
      const line = lines[this.at] as Line;
      if (line.indent !== indent || !this.isSeqItem(line)) break;
      let vs = line.content + 1;
      while (vs < line.end && text.charCodeAt(vs) === SPACE) vs++;
      // `-` alone: the item's value is on the lines below.
      if (vs === line.end) return undefined;
      // `- key: value`: a mapping whose keys are at the column of the first one.
      const item: Line = {
        content: vs,
        end: line.end,
        next: line.next,
        indent: line.indent + vs - line.content,
      };
      let value: Node | undefined;
      if (this.keyEnd(item) >= 0) {
        lines[this.at] = item;
        value = this.blockMap(item.indent);
      } else {
        this.at++;
        value = this.inline(vs, line.end, line.next);
      }
      if (!value?.range || (lines[this.at]?.indent ?? -1) > indent) return undefined;
      seq.items.push(value);
      last = value.range[2];
    }
    seq.range = [from, last, last];
    return seq;
  }

  private isSeqItem(line: Line): boolean {
    const c = line.content;
    return this.text.charCodeAt(c) === DASH && (c + 1 === line.end || this.text.charCodeAt(c + 1) === SPACE);
  }

  /** Where the plain key of a block mapping line ends (its `:`), or -1. */
  private keyEnd(line: Line): number {
    const { text } = this;
    const first = text.charCodeAt(line.content);
    // `<`: a merge key `<<` is left to yaml; `...` at column 0 ends a document.
    if (INDICATOR.has(first) || first === DASH || first === 60) return -1;
    if (line.indent === 0 && text.startsWith('...', line.content)) return -1;
    for (let i = line.content + 1; i < line.end && i - line.content < MAX_KEY; i++) {
      if (text.charCodeAt(i) !== COLON) continue;
      if (i + 1 < line.end && text.charCodeAt(i + 1) !== SPACE) continue;
      return text.charCodeAt(i - 1) === SPACE ? -1 : i;
    }
    return -1;
  }

  /** A value on a block line from `s` to the line's end `e`; `nodeEnd` is where yaml ends the node (the next line). */
  private inline(s: number, e: number, nodeEnd: number): Node | undefined {
    const { text } = this;
    const c = text.charCodeAt(s);
    if (c === DQUOTE || c === SQUOTE) {
      const close = this.quoteEnd(s, e);
      return close === e ? this.quoted(s, close, nodeEnd) : undefined;
    }
    if (c === LBRACKET || c === LBRACE) {
      const flow = this.flow(s, e);
      if (!flow || flow.end !== e) return undefined;
      (flow.node.range as [number, number, number])[2] = nodeEnd;
      return flow.node;
    }
    if (!this.plainStart(s, e, false)) return undefined;
    // `: ` or a final `:` would make it a mapping (an error on a value line).
    for (let i = s; i < e; i++) {
      if (text.charCodeAt(i) === COLON && (i + 1 === e || text.charCodeAt(i + 1) === SPACE)) return undefined;
    }
    return this.plain(s, e, nodeEnd);
  }

  /** A plain scalar may start here (in a flow collection when `flow`). */
  private plainStart(s: number, e: number, flow: boolean): boolean {
    const c = this.text.charCodeAt(s);
    if (c !== DASH) return !INDICATOR.has(c);
    const n = s + 1 < e ? this.text.charCodeAt(s + 1) : SPACE;
    return n !== SPACE && !(flow && FLOW_END.has(n));
  }

  /** After the closing quote of the quoted scalar at `s` (on this line, no escapes), or -1. */
  private quoteEnd(s: number, e: number): number {
    const { text } = this;
    const q = text.charCodeAt(s);
    for (let i = s + 1; i < e; i++) {
      const c = text.charCodeAt(i);
      if (c === BACKSLASH && q === DQUOTE) return -1;
      if (c !== q) continue;
      // `''` inside single quotes is an escaped quote.
      if (q === SQUOTE && i + 1 < e && text.charCodeAt(i + 1) === SQUOTE) return -1;
      return i + 1;
    }
    return -1;
  }

  private quoted(s: number, e: number, nodeEnd: number): Scalar {
    const source = this.text.slice(s + 1, e - 1);
    const scalar = new Scalar(source);
    scalar.range = [s, e, nodeEnd];
    scalar.source = source;
    scalar.type = this.text.charCodeAt(s) === DQUOTE ? 'QUOTE_DOUBLE' : 'QUOTE_SINGLE';
    return scalar;
  }

  /** A plain scalar from `s` to `e`, resolved by the schema as yaml resolves an untagged one. */
  private plain(s: number, e: number, nodeEnd: number): Scalar {
    const source = this.text.slice(s, e);
    let scalar: Scalar | undefined;
    // Only null (``, `~`, null), booleans and numbers (digits, sign, `.`) have tests in the core
    // schema: other first characters are strings without testing every tag.
    const c = source.length > 0 ? source.charCodeAt(0) : 0;
    if (c === 0 || (c >= 48 && c <= 57) || '~nNtTfF+-.'.includes(source.charAt(0))) {
      const tag = this.tags.find((t) => t.test?.test(source));
      if (tag) {
        const res = tag.resolve(source, this.onError, RESOLVE_OPTIONS);
        scalar = isScalar(res) ? res : new Scalar(res);
        if (tag.format) scalar.format = tag.format;
      }
    }
    scalar ??= new Scalar(source);
    scalar.range = [s, e, nodeEnd];
    scalar.source = source;
    scalar.type = 'PLAIN';
    return scalar;
  }

  private skipSpaces(p: number, e: number): number {
    while (p < e && this.text.charCodeAt(p) === SPACE) p++;
    return p;
  }

  /** A flow collection at `s` closed before `e`, with where it ends (after its closing bracket). */
  private flow(s: number, e: number): { node: YAMLMap | YAMLSeq; end: number } | undefined {
    const { text } = this;
    const isMap = text.charCodeAt(s) === LBRACE;
    const close = isMap ? RBRACE : RBRACKET;
    const node = isMap ? new YAMLMap(this.schema) : new YAMLSeq(this.schema);
    node.flow = true;
    let p = this.skipSpaces(s + 1, e);
    if (text.charCodeAt(p) !== close) {
      for (;;) {
        const item = this.flowItem(p, e);
        if (!item) return undefined;
        p = item.end;
        if (isMap) {
          // `key :` (yaml ends such a key before its spaces), or no `: `.
          const key = item.node;
          if (!isScalar(key) || key.range?.[1] !== p || text.charCodeAt(p) !== COLON) return undefined;
          if (text.charCodeAt(p + 1) !== SPACE) return undefined;
          const v = this.flowItem(this.skipSpaces(p + 1, e), e);
          if (!v) return undefined;
          (node as YAMLMap).items.push(new Pair(item.node, v.node));
          p = v.end;
        } else {
          if (text.charCodeAt(p) === COLON) return undefined;
          (node as YAMLSeq).items.push(item.node);
        }
        const c = text.charCodeAt(p);
        if (c === close) break;
        if (c !== COMMA) return undefined;
        p = this.skipSpaces(p + 1, e);
        // A trailing comma, or an empty entry.
        if (p >= e || FLOW_END.has(text.charCodeAt(p))) return undefined;
      }
    }
    if (p >= e) return undefined;
    const after = p + 1;
    node.range = [s, after, this.skipSpaces(after, e)];
    return { node, end: this.skipSpaces(after, e) };
  }

  /** One entry of a flow collection at `s`, and where the spaces after it end. */
  private flowItem(s: number, e: number): { node: Node; end: number } | undefined {
    const { text } = this;
    if (s >= e) return undefined;
    const c = text.charCodeAt(s);
    if (c === LBRACKET || c === LBRACE) return this.flow(s, e);
    if (c === DQUOTE || c === SQUOTE) {
      const close = this.quoteEnd(s, e);
      if (close < 0) return undefined;
      const end = this.skipSpaces(close, e);
      return { node: this.quoted(s, close, end), end };
    }
    if (!this.plainStart(s, e, true)) return undefined;
    let i = s;
    let last = s;
    for (; i < e; i++) {
      const ch = text.charCodeAt(i);
      if (FLOW_END.has(ch)) break;
      if (ch === COLON) {
        const n = i + 1 < e ? text.charCodeAt(i + 1) : SPACE;
        if (n === SPACE || FLOW_END.has(n)) break;
      }
      if (ch !== SPACE) last = i + 1;
    }
    const end = this.skipSpaces(last, e);
    // Only spaces may separate the scalar from what ends it.
    if (end !== i && i < e) return undefined;
    return { node: this.plain(s, last, end), end };
  }
}
