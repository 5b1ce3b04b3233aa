// The compose check: each document, its structure, then every service as compose resolves it
// (merge keys, extends, interpolation defaults), as one YAML stream or in parts (./parts).
import { LineCounter } from 'yaml';
import { getPath, isRecord, parseCompose, type ComposeDocument, type ParsedCompose } from '../model';
import { servicesLoader } from '../extends';
import { isTestFile } from '../testFiles';
import type { CheckOptions, Finding } from '../findings';
import { errorMessage } from '../../../shared/errors';
import { report, type Ctx } from './context';
import { checkParts } from './parts';
import { checkServiceEntry, checkTopLevel } from './sections';
import { checkInterpolation } from './syntax';

export { fileFinding, RULES, type CheckOptions, type Finding, type RuleId, type Severity } from '../findings';

/** Checks a compose file's text. Never throws: whatever goes wrong becomes a finding. */
export function checkCompose(text: string, fileName: string, opts: CheckOptions = {}): Finding[] {
  return checkComposeBy('auto', text, fileName, opts) as Finding[];
}

/**
 * The check by one path: `whole` parses the file as one YAML stream; `parts` checks it one
 * top-level section and one service at a time (see ./parts), undefined when the file's layout
 * does not allow that; `yaml-parts` the same with every part parsed by yaml (not by the light
 * parser of the plain subset); `auto` takes parts when it can. All give the same findings (a
 * test compares them); parts keeps one small document alive at a time.
 */
export function checkComposeBy(
  path: 'auto' | 'whole' | 'parts' | 'yaml-parts',
  text: string,
  fileName: string,
  opts: CheckOptions = {},
): Finding[] | undefined {
  const kind = opts.fileKind ?? 'auto';
  const ctx: Ctx = {
    lineCounter: new LineCounter(),
    text,
    isTest: kind === 'test' || (kind === 'auto' && isTestFile(fileName, opts.testGlobs)),
    shared: opts.sharedEnvironment ?? true,
    loader: opts.readFile ? servicesLoader(fileName, opts.readFile) : undefined,
    target: () => undefined,
    out: [],
  };
  if (path !== 'whole') {
    let done = false;
    try {
      done = checkParts(ctx, path !== 'yaml-parts');
    } catch (err) {
      // The whole-document path below reports it (as an internal error if it is one there too).
      if (path !== 'auto') throw err;
    }
    if (done) return sorted(ctx.out);
    if (path !== 'auto') return undefined;
    ctx.out = [];
    ctx.target = () => undefined;
  }
  const parsed = parseCompose(text);
  ctx.lineCounter = parsed.lineCounter;
  try {
    checkDocuments(ctx, parsed);
  } catch (err) {
    // A rule bug must not take the editor's diagnostics down with it: say so, at the top.
    report(ctx, 'compose-structure', 'error', `internal error while checking: ${errorMessage(err)}`, 0, 0);
  }
  return sorted(ctx.out);
}

function sorted(out: Finding[]): Finding[] {
  return out.sort((a, b) => a.offset - b.offset || a.rule.localeCompare(b.rule));
}

function checkDocuments(ctx: Ctx, parsed: ParsedCompose): void {
  const docs = parsed.documents;
  const real = docs.filter((d) => d.doc.contents !== null || d.doc.errors.length > 0);
  if (real.length > 1) {
    for (const d of real.slice(1)) {
      const start = d.doc.range[0];
      report(
        ctx,
        'multi-document',
        'warning',
        'several YAML documents in one file: compose v1 refuses the file ("expected a single document"); use one document, or one file per document',
        start,
        start + 3,
      );
    }
  }
  if (real.length === 0) {
    report(
      ctx,
      'compose-structure',
      'error',
      'the file is empty: a compose file needs a `services` mapping',
      0,
      0,
    );
    return;
  }
  for (const d of real) checkDocument(ctx, d);
}

function checkDocument(ctx: Ctx, d: ComposeDocument): void {
  for (const e of d.doc.errors) {
    const [from, to] = e.pos;
    report(ctx, 'yaml-syntax', 'error', `YAML: ${firstLine(e.message)}`, from, Math.max(to, from));
  }
  for (const w of d.doc.warnings)
    report(ctx, 'yaml-syntax', 'warning', `YAML: ${firstLine(w.message)}`, w.pos[0], w.pos[1]);
  // On a broken document the recovered tree is a guess: rules on it would mislead.
  if (d.doc.errors.length > 0) return;
  if (!d.root) {
    const r = d.doc.contents?.range ?? [0, 0];
    report(
      ctx,
      'compose-structure',
      'error',
      'the top level of a compose file must be a mapping (services:, volumes:, ...)',
      r[0],
      r[1],
    );
    return;
  }
  ctx.target = d.target;
  checkInterpolation(ctx, d.dollarScalars);
  if (!checkTopLevel(ctx, d.root, d.legacy)) return;
  const plainServices = d.legacy ? d.plain : getPath(d.plain, ['services']);
  const services = isRecord(plainServices) ? plainServices : {};
  for (const s of d.services) checkServiceEntry(ctx, s, d.legacy, services);
}

function firstLine(message: string): string {
  return (message.split('\n')[0] as string).replace(/ at line \d+, column \d+:?$/, '');
}
