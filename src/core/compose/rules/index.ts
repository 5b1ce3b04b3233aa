// The compose check: each document, its structure, then every service as compose resolves it
// (merge keys, extends, interpolation defaults) through the rules of each theme.
import { isMap, isScalar, type Node, type Scalar, type YAMLMap } from 'yaml';
import { LEGACY_SERVICE_KEYS, SERVICE_KEYS, TOP_LEVEL_KEYS } from '../keys';
import {
  effectiveService,
  getPath,
  isRecord,
  mapPair,
  parseCompose,
  resolvedPair,
  servicesLoader,
  type ComposeDocument,
  type ServiceEntry,
} from '../model';
import { isTestFile } from '../testFiles';
import { report, reportAt, type Ctx, type Resolved } from './context';
import type { CheckOptions, Finding } from '../findings';
import { checkHealthcheck, checkLogging } from './healthLogging';
import { checkImageVariant } from './imageVariant';
import { checkPostgres } from './postgres';
import { checkMixedResources, checkResources } from './resources';
import { checkInterpolation, unknownKey } from './syntax';
import { checkTestOnly } from './testOnly';
import { checkServiceTmpfs, checkVolumesTmpfs } from './tmpfs';
import { errorMessage } from '../../../shared/errors';

export { fileFinding, RULES, type CheckOptions, type Finding, type RuleId, type Severity } from '../findings';

/** Checks a compose file's text. Never throws: whatever goes wrong becomes a finding. */
export function checkCompose(text: string, fileName: string, opts: CheckOptions = {}): Finding[] {
  const kind = opts.fileKind ?? 'auto';
  const isTest = kind === 'test' || (kind === 'auto' && isTestFile(fileName, opts.testGlobs));
  const parsed = parseCompose(text);
  const ctx: Ctx = {
    parsed,
    text,
    isTest,
    shared: opts.sharedEnvironment ?? true,
    loader: opts.readFile ? servicesLoader(fileName, opts.readFile) : undefined,
    target: () => undefined,
    out: [],
  };
  try {
    checkDocuments(ctx);
  } catch (err) {
    // A rule bug must not take the editor's diagnostics down with it: say so, at the top.
    report(ctx, 'compose-structure', 'error', `internal error while checking: ${errorMessage(err)}`, 0, 0);
  }
  return ctx.out.sort((a, b) => a.offset - b.offset || a.rule.localeCompare(b.rule));
}

function checkDocuments(ctx: Ctx): void {
  const docs = ctx.parsed.documents;
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
  checkInterpolation(ctx, d);
  // In the legacy format every top-level key is a service.
  for (const pair of d.legacy ? [] : d.root.items) {
    const key = pair.key;
    if (
      !isScalar(key) ||
      typeof key.value !== 'string' ||
      key.value.startsWith('x-') ||
      TOP_LEVEL_KEYS.has(key.value)
    )
      continue;
    unknownKey(ctx, d.root, key, TOP_LEVEL_KEYS, 'at the top level');
  }
  const servicesPair = mapPair(d.root, 'services');
  if (servicesPair && !isMap(servicesPair.value)) {
    reportAt(
      ctx,
      'compose-structure',
      'error',
      '`services` must be a mapping of service names to their configuration',
      servicesPair.value,
      servicesPair.key,
    );
    return;
  }
  checkVolumesTmpfs(ctx, d);
  if (d.legacy) {
    const first = d.root.items[0]?.key;
    report(
      ctx,
      'legacy-format',
      'info',
      'the legacy version 1 format (services at the top level, as docker-compose 1.x reads a file without `version` or `services`): healthchecks, resource limits and log options need the services under `services:`',
      first?.range?.[0] ?? 0,
      first?.range?.[1] ?? 0,
    );
  }
  const plainServices = d.legacy ? d.plain : getPath(d.plain, ['services']);
  const services = isRecord(plainServices) ? plainServices : {};
  for (const s of d.services) {
    if (!s.node) {
      const empty = !s.pair.value || (isScalar(s.pair.value) && s.pair.value.value === null);
      reportAt(
        ctx,
        'compose-structure',
        'error',
        `service "${s.name}" must be a mapping (image:, command:, ...)`,
        empty ? s.pair.key : s.pair.value,
        s.pair.key,
        s.name,
      );
      continue;
    }
    for (const pair of s.node.items) {
      const key = pair.key;
      const known = d.legacy ? LEGACY_SERVICE_KEYS : SERVICE_KEYS;
      if (
        !isScalar(key) ||
        typeof key.value !== 'string' ||
        key.value.startsWith('x-') ||
        known.has(key.value)
      )
        continue;
      unknownKey(ctx, s.node, key, known, `in service "${s.name}"`, s.name);
    }
    const eff = effectiveService(s.name, services, ctx.loader);
    // The legacy format has none of the keys the standard adds: judge only what it can say.
    checkService(ctx, s, s.node, d.legacy ? undefined : eff, eff);
  }
}

function firstLine(message: string): string {
  return (message.split('\n')[0] as string).replace(/ at line \d+, column \d+:?$/, '');
}

/** `eff` drives the rules that add keys (undefined: skip them); `resolved` is what the service is, for the others. */
function checkService(
  ctx: Ctx,
  s: ServiceEntry,
  node: YAMLMap<Scalar, Node>,
  eff: Record<string, unknown> | undefined,
  resolved = eff,
): void {
  const find = (key: string): Resolved | undefined => resolvedPair(node, key, ctx.target);
  checkServiceTmpfs(ctx, s, node, resolved, find);
  if (eff) {
    checkMixedResources(ctx, s, node, eff);
    checkResources(ctx, s, node, eff);
    checkHealthcheck(ctx, s, node, eff);
    checkLogging(ctx, s, node, eff);
  }
  const full = resolved ?? s.own;
  checkPostgres(ctx, s, node, full, find);
  checkImageVariant(ctx, s, find);
  if (ctx.isTest) checkTestOnly(ctx, s, node, full, find);
}
