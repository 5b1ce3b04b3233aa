// What every compose rule shares: the check context and how a finding is reported at a node (the
// finding shape and the rule table are in ../findings).
import type { Alias, LineCounter, Node, Pair, Scalar, YAMLMap } from 'yaml';
import type { ServicesLoader } from '../extends';
import { mapPair, type ServiceEntry } from '../model';
import { interned } from '../edits';
import type { TextEdit } from '../textEdit';
import type { Finding, RuleId, Severity } from '../findings';

export { fileFinding, RULES, type CheckOptions, type Finding, type RuleId, type Severity } from '../findings';

export interface Ctx {
  /** Line starts of the whole text: findings carry 1-based positions. */
  lineCounter: LineCounter;
  text: string;
  isTest: boolean;
  shared: boolean;
  loader?: ServicesLoader;
  /** Alias resolution of the document being checked. */
  target: (alias: Alias) => Node | undefined;
  out: Finding[];
}

export function report(
  ctx: Ctx,
  rule: RuleId,
  severity: Severity,
  message: string,
  offset: number,
  endOffset: number,
  service?: string,
  fix?: Finding['fix'],
): void {
  const start = ctx.lineCounter.linePos(offset);
  const end = ctx.lineCounter.linePos(endOffset);
  const line = start.line;
  const column = start.col;
  const endLine = end.line;
  const endColumn = end.col;
  if (fix && fix.edits.length > 0) {
    fix.title = interned(fix.title);
    for (const e of fix.edits) e.newText = interned(e.newText);
  } else fix = undefined;
  // Each shape as one literal, the keys in the order they always had: a finding whose keys were
  // added one by one held a spare property store, 200000 times over in a large file.
  const f: Finding =
    service === undefined
      ? fix
        ? { rule, severity, message, line, column, endLine, endColumn, offset, endOffset, fix }
        : { rule, severity, message, line, column, endLine, endColumn, offset, endOffset }
      : fix
        ? { rule, severity, message, line, column, endLine, endColumn, offset, endOffset, service, fix }
        : { rule, severity, message, line, column, endLine, endColumn, offset, endOffset, service };
  ctx.out.push(f);
}

const labels = new WeakMap<ServiceEntry, string>();

/**
 * A message about a service, `service "NAME" ` + `rest`: the name part built once per service and
 * `rest` one copy for every service that repeats it (each of a large file's messages otherwise
 * held its own string pieces: 5 MB for 40k services).
 */
export function aboutService(s: ServiceEntry, rest: string): string {
  let label = labels.get(s);
  if (label === undefined) {
    label = `service "${s.name}" `;
    labels.set(s, label);
  }
  return label + interned(rest);
}

export function reportAt(
  ctx: Ctx,
  rule: RuleId,
  severity: Severity,
  message: string,
  node: Node | null | undefined,
  fallback: Node,
  service?: string,
  fix?: Finding['fix'],
): void {
  const range = node?.range ?? fallback.range ?? [0, 0];
  report(ctx, rule, severity, message, range[0], range[1], service, fix);
}

export function isEdit(e: TextEdit | undefined): e is TextEdit {
  return e !== undefined;
}

export function fixOf(title: string, ...edits: Array<TextEdit | undefined>): Finding['fix'] {
  // The rest array is exactly as long as it needs to be; filter's result holds spare room, which
  // 200000 findings of a large file pay for.
  const list = edits.every(isEdit) ? edits : edits.filter(isEdit);
  return list.length > 0 ? { title, edits: list } : undefined;
}

/** A service key as compose reads it: written in the service or merged in by `<<` (then found in the anchor it comes from). */
export type Resolved = { pair: Pair<Scalar, Node | null>; map: YAMLMap<Scalar, Node>; merged: boolean };

/** A finding about a value that comes from another service through `extends`: reported at the `extends` key, with no fix here. */
export function inherited(
  ctx: Ctx,
  s: ServiceEntry,
  node: YAMLMap<Scalar, Node>,
  rule: 'postgres-durability' | 'fixed-container-name' | 'fixed-host-port' | 'restart-in-test',
  what: string,
): void {
  reportAt(ctx, rule, 'warning', what, mapPair(node, 'extends')?.key, s.pair.key, s.name);
}
