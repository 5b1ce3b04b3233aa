import {
  isMap,
  isScalar,
  isSeq,
  visit,
  type Alias,
  type Node,
  type Pair,
  type Scalar,
  type YAMLMap,
  type YAMLSeq,
} from 'yaml';
import { insertIntoMap, mergeMissing, removePair, removeSeqItem, replaceScalar } from './edits';
import type { TextEdit } from './textEdit';
import {
  anchorResolver,
  effectiveService,
  resolvedPair,
  getPath,
  isRecord,
  mapGet,
  mapPair,
  nodeAt,
  parseCompose,
  type ComposeDocument,
  type ParsedCompose,
  type ServiceEntry,
  servicesLoader,
  type ServicesLoader,
} from './model';
import { commandWords, imageKind, knownHealthcheck, knownProbe, memoryNeed } from './images';
import { LEGACY_SERVICE_KEYS, SERVICE_KEYS, TOP_LEVEL_KEYS } from './keys';
import { STANDARD } from './standard';
import { isTestFile } from './testFiles';
import {
  formatComposeBytes,
  hasInterpolation,
  parseComposeBytes,
  parseCpus,
  parsePostgresBytes,
  unclosedInterpolation,
} from './units';

export type Severity = 'error' | 'warning' | 'info';

export interface Finding {
  rule: string;
  severity: Severity;
  message: string;
  /** 1-based. */
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  /** Offsets into the text that was checked. */
  offset: number;
  endOffset: number;
  service?: string;
  fix?: { title: string; edits: TextEdit[] };
}

export interface CheckOptions {
  /** `auto` (default): a file whose name or folder says test by word is a test file (see isTestFile). */
  fileKind?: 'test' | 'dev' | 'base' | 'auto';
  /** With `auto`: globs naming the test files, instead of the word rule. */
  testGlobs?: readonly string[];
  /**
   * The daemon is shared (CI runners, several projects): durability shortcuts in PostgreSQL
   * are reported. Default true: that is the environment this tool exists for.
   */
  sharedEnvironment?: boolean;
  /** Reads a file named by `extends.file` (absolute path); without it such services are not judged on what they lack. */
  readFile?: (path: string) => string | undefined;
}

/** Every rule, for documentation and for editors that list them. */
export const RULES = {
  'yaml-syntax': 'The file is not valid YAML.',
  'compose-structure':
    'The document is not a compose file: top level, `services` or a service is not a mapping.',
  'multi-document': 'Several YAML documents in one file: compose v1 refuses them.',
  'unknown-key': 'A key compose does not know (often a typo); compose refuses the file.',
  'interpolation-syntax': 'A `${` without its closing `}`: compose refuses the file.',
  tmpfs: 'tmpfs mounts live in RAM: under load they exhaust memory, the classic cause of flaky tests.',
  'resource-limits': 'A service without a memory or CPU limit can starve every other container.',
  'mixed-resource-keys':
    'mem_limit/mem_reservation next to a deploy.resources section without memory: compose v1 drops them.',
  'limits-below-reservations': 'A limit below its reservation: the engine refuses to create the container.',
  healthcheck: 'No healthcheck: nothing can wait for readiness, so tests race the service start.',
  'log-rotation': 'json-file logs without max-size grow until the disk is full.',
  'restart-in-test':
    '`restart: always`/`unless-stopped` in a test file brings containers back after the run.',
  'postgres-durability':
    'PostgreSQL with fsync, full_page_writes or synchronous_commit off on a shared daemon.',
  'postgres-shared-buffers': 'PostgreSQL shared_buffers above a quarter of the memory limit.',
  'fixed-container-name': 'A fixed container_name in a test file: two runs at once collide.',
  'fixed-host-port': 'A fixed host port in a test file: two runs at once collide.',
  'legacy-format':
    'The legacy version 1 format (services at the top level): no healthcheck, deploy or logging keys exist in it.',
} as const;
export type RuleId = keyof typeof RULES;

interface Ctx {
  parsed: ParsedCompose;
  text: string;
  isTest: boolean;
  shared: boolean;
  loader?: ServicesLoader;
  /** Alias resolution of the document being checked. */
  target: (alias: Alias) => Node | undefined;
  out: Finding[];
}

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
    report(
      ctx,
      'compose-structure',
      'error',
      `internal error while checking: ${(err as Error).message}`,
      0,
      0,
    );
  }
  return ctx.out.sort((a, b) => a.offset - b.offset || a.rule.localeCompare(b.rule));
}

function report(
  ctx: Ctx,
  rule: RuleId,
  severity: Severity,
  message: string,
  offset: number,
  endOffset: number,
  service?: string,
  fix?: Finding['fix'],
): void {
  const start = ctx.parsed.lineCounter.linePos(offset);
  const end = ctx.parsed.lineCounter.linePos(endOffset);
  const f: Finding = {
    rule,
    severity,
    message,
    line: start.line,
    column: start.col,
    endLine: end.line,
    endColumn: end.col,
    offset,
    endOffset,
  };
  if (service !== undefined) f.service = service;
  if (fix && fix.edits.length > 0) f.fix = fix;
  ctx.out.push(f);
}

function reportAt(
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
  ctx.target = anchorResolver(d.doc);
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

function unknownKey(
  ctx: Ctx,
  map: YAMLMap<Scalar, Node>,
  key: Scalar,
  known: Set<string>,
  where: string,
  service?: string,
): void {
  const name = String(key.value);
  const guess = closest(name, known);
  // Renaming onto a key the mapping already has would make a duplicate: no fix then.
  const fix =
    guess && !mapPair(map, guess)
      ? { title: `Rename to "${guess}"`, edits: [replaceScalar(key, guess)].filter(isEdit) }
      : undefined;
  const hint = guess ? ` (did you mean "${guess}"?)` : '';
  reportAt(
    ctx,
    'unknown-key',
    'warning',
    `unknown key "${name}" ${where}${hint}: compose refuses the file`,
    key,
    key,
    service,
    fix,
  );
}

function closest(name: string, known: Set<string>): string | undefined {
  let best: string | undefined;
  let bestDist = 3;
  for (const k of known) {
    const d = editDistance(name.toLowerCase(), k);
    if (d < bestDist) {
      best = k;
      bestDist = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j] as number;
      row[j] = Math.min(cur + 1, (row[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length] as number;
}

function isEdit(e: TextEdit | undefined): e is TextEdit {
  return e !== undefined;
}

function fixOf(title: string, ...edits: Array<TextEdit | undefined>): Finding['fix'] {
  const list = edits.filter(isEdit);
  return list.length > 0 ? { title, edits: list } : undefined;
}

function checkInterpolation(ctx: Ctx, d: ComposeDocument): void {
  visit(d.doc, {
    Scalar(_key, node) {
      if (typeof node.value !== 'string' || !node.range) return;
      const at = unclosedInterpolation(node.value);
      if (at === undefined) return;
      report(
        ctx,
        'interpolation-syntax',
        'error',
        `"\${" without a closing "}" in "${node.value}": compose refuses the file (write "$$" for a literal dollar)`,
        node.range[0],
        node.range[1],
      );
    },
  });
}

/** Top-level volumes backed by tmpfs through the local driver's options. */
function checkVolumesTmpfs(ctx: Ctx, d: ComposeDocument): void {
  const volumes = mapGet(d.root, 'volumes');
  if (!isMap(volumes)) return;
  for (const pair of (volumes as YAMLMap<Scalar, Node>).items) {
    const vol = pair.value;
    if (!isMap(vol)) continue;
    const optsPair = mapPair(vol as YAMLMap<Scalar, Node>, 'driver_opts');
    const type = isMap(optsPair?.value)
      ? mapGet(optsPair?.value as YAMLMap<Scalar, Node>, 'type')
      : undefined;
    if (!isScalar(type) || type.value !== 'tmpfs' || !optsPair) continue;
    const sized = /size=/.test(String(getPath((optsPair.value as YAMLMap).toJSON(), ['o']) ?? ''));
    const fix = fixOf(
      'Remove the tmpfs driver options (a disk-backed volume)',
      removePair(ctx.text, vol as YAMLMap<Scalar, Node>, optsPair),
    );
    tmpfsFinding(ctx, `volume "${String(pair.key?.toString())}" is a tmpfs`, sized, type, undefined, fix);
  }
}

function tmpfsFinding(
  ctx: Ctx,
  what: string,
  sized: boolean,
  node: Node,
  service: string | undefined,
  fix: Finding['fix'],
): void {
  const severity: Severity = !sized ? (ctx.isTest ? 'error' : 'warning') : 'info';
  const why = sized
    ? 'its size is capped, but its pages still count against the memory of the container and the host'
    : 'it lives in RAM with no size cap: under parallel load it exhausts memory (OOM kills, hangs), the classic cause of flaky Docker tests';
  const advice = ctx.isTest ? '; test files use disk-backed volumes' : '';
  reportAt(ctx, 'tmpfs', severity, `${what}: ${why}${advice}`, node, node, service, fix);
}

/** A service key as compose reads it: written in the service or merged in by `<<` (then found in the anchor it comes from). */
type Resolved = { pair: Pair<Scalar, Node | null>; map: YAMLMap<Scalar, Node>; merged: boolean };

/** A tmpfs mount is capped only by a size above zero (`size=0` is unlimited). */
function tmpfsSized(value: unknown): boolean {
  const m = /(?:^|[:,])size=(\d+)/.exec(String(value));
  return m !== null && Number(m[1]) > 0;
}

/** `eff` drives the rules that add keys (undefined: skip them); `resolved` is what the service is, for the others. */
function checkService(
  ctx: Ctx,
  s: ServiceEntry,
  node: YAMLMap<Scalar, Node>,
  eff: Record<string, unknown> | undefined,
  resolved = eff,
): void {
  const { text } = ctx;
  const find = (key: string): Resolved | undefined => resolvedPair(node, key, ctx.target);
  // tmpfs: the service key (string or list) and long-syntax volumes.
  const tmpfs = find('tmpfs');
  const tmpfsPair = tmpfs?.pair;
  if (tmpfs && tmpfsPair?.value) {
    if (isSeq(tmpfsPair.value)) {
      const seq = tmpfsPair.value as YAMLSeq<Node>;
      for (const item of seq.items) {
        if (!isScalar(item)) continue;
        const fix = fixOf(
          'Remove this tmpfs mount',
          seq.items.length > 1 ? removeSeqItem(text, seq, item) : removePair(text, tmpfs.map, tmpfsPair),
        );
        tmpfsFinding(ctx, `tmpfs mount "${String(item.value)}"`, tmpfsSized(item.value), item, s.name, fix);
      }
    } else if (isScalar(tmpfsPair.value)) {
      const fix = fixOf('Remove the tmpfs mount', removePair(text, tmpfs.map, tmpfsPair));
      tmpfsFinding(
        ctx,
        `tmpfs mount "${String(tmpfsPair.value.value)}"`,
        tmpfsSized(tmpfsPair.value.value),
        tmpfsPair.value,
        s.name,
        fix,
      );
    }
  } else if (resolved && resolved.tmpfs !== undefined && resolved.tmpfs !== null) {
    inherited(
      ctx,
      s,
      node,
      'tmpfs',
      `tmpfs mount ${JSON.stringify(resolved.tmpfs)} (inherited through extends)`,
    );
  }
  const vols = find('volumes');
  if (vols && isSeq(vols.pair.value)) {
    const seq = vols.pair.value as YAMLSeq<Node>;
    for (const item of seq.items) {
      if (!isMap(item)) continue;
      const type = mapGet(item as YAMLMap<Scalar, Node>, 'type');
      if (!isScalar(type) || type.value !== 'tmpfs') continue;
      const target = getPath((item as YAMLMap).toJSON(), ['target']);
      const size = getPath((item as YAMLMap).toJSON(), ['tmpfs', 'size']);
      const fix = fixOf(
        'Remove this tmpfs mount',
        seq.items.length > 1 ? removeSeqItem(text, seq, item) : removePair(text, vols.map, vols.pair),
      );
      tmpfsFinding(
        ctx,
        `tmpfs mount "${String(target ?? '')}"`,
        size !== undefined && parseComposeBytes(size) !== 0,
        type,
        s.name,
        fix,
      );
    }
  }

  if (eff) {
    checkMixedResources(ctx, s, node, eff);
    checkResources(ctx, s, node, eff);
    checkHealthcheck(ctx, s, node, eff);
    checkLogging(ctx, s, node, eff);
  }
  const full = resolved ?? s.own;
  checkPostgres(ctx, s, node, full, find);
  if (ctx.isTest) checkTestOnly(ctx, s, node, full, find);
}

/** A finding about a value that comes from another service through `extends`: reported at the `extends` key, with no fix here. */
function inherited(
  ctx: Ctx,
  s: ServiceEntry,
  node: YAMLMap<Scalar, Node>,
  rule: 'tmpfs' | 'postgres-durability' | 'fixed-container-name' | 'fixed-host-port' | 'restart-in-test',
  what: string,
): void {
  const ext = mapPair(node, 'extends');
  if (rule === 'tmpfs') tmpfsFinding(ctx, what, false, ext?.key ?? s.pair.key, s.name, undefined);
  else reportAt(ctx, rule, 'warning', what, ext?.key, s.pair.key, s.name);
}

/** Memory limit: `deploy.resources.limits.memory` (v3/spec) or `mem_limit` (v2 format). */
const MEM_LIMIT = [['deploy', 'resources', 'limits', 'memory'], ['mem_limit']];
const MEM_RESERVATION = [['deploy', 'resources', 'reservations', 'memory'], ['mem_reservation']];
/**
 * Any of these limits CPU. `cpus` next to `cpu_quota`/`cpu_period` makes the daemon refuse the
 * container ("Conflicting options: Nano CPUs and CPU Period cannot both be set").
 */
const CPU_LIMIT = [
  ['deploy', 'resources', 'limits', 'cpus'],
  ['cpus'],
  ['cpu_quota'],
  ['cpu_period'],
  ['cpuset'],
  ['cpu_count'],
  ['cpu_percent'],
];
const CPU_RESERVATION = [['deploy', 'resources', 'reservations', 'cpus']];

function firstSet(
  eff: Record<string, unknown>,
  paths: string[][],
): { path: string[]; value: unknown } | undefined {
  for (const path of paths) {
    const value = getPath(eff, path);
    if (value !== undefined && value !== null) return { path, value };
  }
  return undefined;
}

const LEGACY_RESOURCE_KEYS = ['mem_limit', 'mem_reservation', 'cpus'];

/**
 * What the standard adds to a service for resources, given what it has (empty when nothing).
 * Written in the style the service already uses, because compose v1 (1.29) does not mix them:
 * once `deploy.resources.limits` exists it takes the memory limit from there alone and drops
 * `mem_limit` (measured on this engine; the same goes for reservations). So a service with
 * `mem_limit`/`mem_reservation`/`cpus` gets those keys, and an existing `deploy.resources.limits`
 * or `.reservations` mapping gets the missing values inside it.
 */
/**
 * The memory limit apply adds to a service without one: the standard, raised to what the
 * service's own settings demand (never below), or none when it is known to need more but its
 * settings give no figure.
 */
export function memoryLimitFor(eff: Record<string, unknown>): string | undefined {
  const need = memoryNeed(eff, STANDARD.postgres.sharedBuffersMaxShare);
  if (need && 'unknown' in need) return undefined;
  const standard = parseComposeBytes(STANDARD.resources.limits.memory) as number;
  if (!need || need.bytes <= standard) return STANDARD.resources.limits.memory;
  return formatComposeBytes(Math.ceil(need.bytes / 1024 ** 2) * 1024 ** 2);
}

export function resourcesPatch(eff: Record<string, unknown>): Record<string, unknown> {
  const legacy = LEGACY_RESOURCE_KEYS.some((k) => eff[k] !== undefined && eff[k] !== null);
  const hasLimits = isRecord(getPath(eff, ['deploy', 'resources', 'limits']));
  const hasReservations = isRecord(getPath(eff, ['deploy', 'resources', 'reservations']));
  const limits: Record<string, unknown> = {};
  const reservations: Record<string, unknown> = {};
  const top: Record<string, unknown> = {};
  const limitsIntoDeploy = hasLimits || !legacy;
  const memLimit = firstSet(eff, MEM_LIMIT);
  const memory = memLimit ? undefined : memoryLimitFor(eff);
  if (memory !== undefined) {
    if (limitsIntoDeploy) limits.memory = memory;
    else top.mem_limit = memory;
  }
  if (!firstSet(eff, CPU_LIMIT)) {
    if (limitsIntoDeploy) limits.cpus = STANDARD.resources.limits.cpus;
    else top.cpus = STANDARD.resources.limits.cpus;
  }
  if (!firstSet(eff, MEM_RESERVATION)) {
    const standard = parseComposeBytes(STANDARD.resources.reservations.memory) as number;
    const limit = memLimit ? parseComposeBytes(memLimit.value) : standard;
    // A user's limit below the standard reservation wins (a reservation above it is refused);
    // a limit only known at `up` time (a variable) gets no reservation that could exceed it.
    if (limit !== undefined) {
      const value = limit >= standard ? STANDARD.resources.reservations.memory : formatComposeBytes(limit);
      if (hasReservations || !legacy) reservations.memory = value;
      else top.mem_reservation = value;
    }
  }
  const resources: Record<string, unknown> = {};
  if (Object.keys(limits).length > 0) resources.limits = limits;
  if (Object.keys(reservations).length > 0) resources.reservations = reservations;
  return Object.keys(resources).length > 0 ? { ...top, deploy: { resources } } : top;
}

function resourcesTitle(patch: Record<string, unknown>): string {
  const memory = getPath(patch, ['deploy', 'resources', 'limits', 'memory']) ?? patch.mem_limit;
  const cpus = getPath(patch, ['deploy', 'resources', 'limits', 'cpus']) ?? patch.cpus;
  const reservation =
    getPath(patch, ['deploy', 'resources', 'reservations', 'memory']) ?? patch.mem_reservation;
  const parts = [
    memory !== undefined && `memory ${String(memory)}`,
    cpus !== undefined && `${String(cpus)} CPU`,
    reservation !== undefined && `reservation ${String(reservation)}`,
  ];
  return parts.filter((p): p is string => typeof p === 'string').join(', ');
}

/** The v1 trap resourcesPatch avoids, when the user's file already has it. */
function checkMixedResources(
  ctx: Ctx,
  s: ServiceEntry,
  node: YAMLMap<Scalar, Node>,
  eff: Record<string, unknown>,
): void {
  const pairs: Array<[string, string, string]> = [
    ['mem_limit', 'limits', 'limit'],
    ['mem_reservation', 'reservations', 'reservation'],
  ];
  for (const [legacyKey, section, what] of pairs) {
    const legacyValue = eff[legacyKey];
    const deploySection = getPath(eff, ['deploy', 'resources', section]);
    if (
      legacyValue === undefined ||
      legacyValue === null ||
      !isRecord(deploySection) ||
      deploySection.memory !== undefined
    )
      continue;
    const target = nodeAt(node, ['deploy', 'resources', section]);
    const fix = isMap(target)
      ? fixOf(
          `Set deploy.resources.${section}.memory to ${String(legacyValue)}`,
          insertIntoMap(ctx.text, target as YAMLMap<Scalar, Node>, { memory: legacyValue }),
        )
      : undefined;
    const pair = mapPair(node, legacyKey);
    reportAt(
      ctx,
      'mixed-resource-keys',
      'warning',
      `${legacyKey} ${String(legacyValue)} is ignored by compose v1 because deploy.resources.${section} is set without memory: the container runs with no memory ${what}`,
      pair?.key,
      s.pair.key,
      s.name,
      fix,
    );
  }
}

function checkResources(
  ctx: Ctx,
  s: ServiceEntry,
  node: YAMLMap<Scalar, Node>,
  eff: Record<string, unknown>,
): void {
  const missing: string[] = [];
  if (!firstSet(eff, MEM_LIMIT)) missing.push('memory');
  if (!firstSet(eff, CPU_LIMIT)) missing.push('CPU');
  if (missing.length > 0) {
    const patch = resourcesPatch(eff);
    const fix = fixOf(
      `Add resource limits (${resourcesTitle(patch)})`,
      ...mergeMissing(ctx.text, node, patch, s.own),
    );
    reportAt(
      ctx,
      'resource-limits',
      'warning',
      `service "${s.name}" has no ${missing.join(' or ')} limit: one runaway container can starve every other one on the daemon`,
      s.pair.key,
      s.pair.key,
      s.name,
      fix,
    );
  }
  const pairs: Array<[string[][], string[][], 'memory' | 'CPU', (v: unknown) => number | undefined]> = [
    [MEM_LIMIT, MEM_RESERVATION, 'memory', parseComposeBytes],
    [CPU_LIMIT, CPU_RESERVATION, 'CPU', parseCpus],
  ];
  for (const [limitPaths, resPaths, what, parseValue] of pairs) {
    const limit = firstSet(eff, limitPaths);
    const reservation = firstSet(eff, resPaths);
    if (!limit || !reservation) continue;
    const l = parseValue(limit.value);
    const r = parseValue(reservation.value);
    if (l === undefined || r === undefined || l >= r) continue;
    const resNode = nodeAt(node, reservation.path);
    const fix =
      resNode && isScalar(resNode)
        ? fixOf('Lower the reservation to the limit', replaceScalar(resNode, limit.value))
        : undefined;
    reportAt(
      ctx,
      'limits-below-reservations',
      'error',
      `${what} limit ${String(limit.value)} is below the reservation ${String(reservation.value)}: the engine refuses to create the container`,
      resNode,
      s.pair.key,
      s.name,
      fix,
    );
  }
}

function healthcheckDisabled(hc: unknown): boolean {
  if (!isRecord(hc)) return false;
  const test = hc.test;
  return hc.disable === true || (Array.isArray(test) && test[0] === 'NONE') || test === 'NONE';
}

/** What the standard adds to a service's healthcheck (empty when it has none and none is known, or it is disabled). */
export function healthcheckPatch(eff: Record<string, unknown>): Record<string, unknown> {
  const hc = eff.healthcheck;
  if (healthcheckDisabled(hc)) return {};
  if (hc === undefined || hc === null) {
    const test = knownHealthcheck(eff);
    return test ? { healthcheck: { test, ...STANDARD.healthcheck } } : {};
  }
  if (!isRecord(hc)) return {};
  const add: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(STANDARD.healthcheck)) if (hc[k] === undefined) add[k] = v;
  return Object.keys(add).length > 0 ? { healthcheck: add } : {};
}

function checkHealthcheck(
  ctx: Ctx,
  s: ServiceEntry,
  node: YAMLMap<Scalar, Node>,
  eff: Record<string, unknown>,
): void {
  if (eff.healthcheck !== undefined && eff.healthcheck !== null) return;
  const probe = knownProbe(eff);
  const test = probe && 'test' in probe ? probe.test : undefined;
  const fix = test
    ? fixOf(
        'Add the standard healthcheck for this image',
        insertIntoMap(ctx.text, node, { healthcheck: { test, ...STANDARD.healthcheck } }),
      )
    : undefined;
  const why = probe && 'none' in probe ? `; no standard probe fits: ${probe.none}` : '';
  const hint = test ? '' : ` (add one: test, interval 10s, timeout 5s, retries 5${why})`;
  reportAt(
    ctx,
    'healthcheck',
    'warning',
    `service "${s.name}" has no healthcheck: dependents and tests cannot wait for it to be ready${hint}`,
    s.pair.key,
    s.pair.key,
    s.name,
    fix,
  );
}

/** What the standard adds to a service's logging (empty when it rotates or uses another driver). */
export function loggingPatch(eff: Record<string, unknown>): Record<string, unknown> {
  if (eff.log_driver !== undefined || eff.log_opt !== undefined) return {};
  const logging = eff.logging;
  if (logging === undefined || logging === null)
    return { logging: { driver: STANDARD.logging.driver, options: { ...STANDARD.logging.options } } };
  if (!isRecord(logging)) return {};
  const driver = logging.driver;
  if (driver !== undefined && driver !== 'json-file') return {};
  const options = isRecord(logging.options) ? logging.options : {};
  if (options['max-size'] !== undefined) return {};
  const add: Record<string, unknown> = { 'max-size': STANDARD.logging.options['max-size'] };
  if (options['max-file'] === undefined) add['max-file'] = STANDARD.logging.options['max-file'];
  return { logging: { options: add } };
}

function checkLogging(
  ctx: Ctx,
  s: ServiceEntry,
  node: YAMLMap<Scalar, Node>,
  eff: Record<string, unknown>,
): void {
  const patch = loggingPatch(eff);
  if (Object.keys(patch).length === 0) return;
  const fix = fixOf(
    'Add json-file log rotation (max-size 10m, max-file 3)',
    ...mergeMissing(ctx.text, node, patch, s.own),
  );
  const logNode = mapGet(node, 'logging');
  const message = logNode
    ? `service "${s.name}" logs with json-file without max-size: its log grows until the disk is full`
    : `service "${s.name}" has no logging options: the default json-file log grows without limit unless the daemon sets log-opts`;
  reportAt(
    ctx,
    'log-rotation',
    'warning',
    message,
    logNode ? mapPair(node, 'logging')?.key : s.pair.key,
    s.pair.key,
    s.name,
    fix,
  );
}

/** An unsafe value written literally or as the default of a variable (`${PG_FSYNC:-off}` is off unless set). */
const UNSAFE_PG =
  /(fsync|full_page_writes|synchronous_commit)(\s*=\s*)(?:(off|false|no|0)|(\$\{[A-Za-z_][A-Za-z0-9_]*:?-)(off|false|no|0)\})(?![\w])/gi;
const SHARED_BUFFERS = /shared_buffers(\s*=\s*)(\d+\s*(?:B|kB|MB|GB|TB)?)(?![\w])/g;

/** Scalars of `command:` and `entrypoint:` (strings or lists), written in the service or merged into it. */
function commandScalars(find: (key: string) => Resolved | undefined): Scalar[] {
  return ['entrypoint', 'command'].flatMap((key) => {
    const cmd = find(key)?.pair.value;
    if (isScalar(cmd)) return [cmd];
    if (isSeq(cmd)) return (cmd as YAMLSeq<Node>).items.filter((i): i is Scalar => isScalar(i));
    return [];
  });
}

/** A setting name must start a word, or follow `-c` glued to it (`-cfsync=off`). */
function startsSetting(source: string, at: number): boolean {
  const before = source.slice(Math.max(0, at - 2), at);
  return at === 0 || !/[\w.]$/.test(before) || before === '-c';
}

function durabilityMessage(setting: string, value: string): string {
  return `PostgreSQL ${setting}=${value} on a shared daemon: when the engine is killed or the host runs out of memory the database is corrupted, and the next run fails for reasons unrelated to its code`;
}

function checkPostgres(
  ctx: Ctx,
  s: ServiceEntry,
  node: YAMLMap<Scalar, Node>,
  full: Record<string, unknown>,
  find: (key: string) => Resolved | undefined,
): void {
  if (imageKind(full.image) !== 'postgres') return;
  const scalars = commandScalars(find);
  if (scalars.length === 0 && ctx.shared) {
    // Only through extends: judge the inherited words, report at the extends key.
    for (const w of commandWords(full)) {
      for (const m of w.matchAll(UNSAFE_PG))
        if (startsSetting(w, m.index))
          inherited(
            ctx,
            s,
            node,
            'postgres-durability',
            `${durabilityMessage(m[1] as string, (m[3] ?? m[5]) as string)} (inherited through extends)`,
          );
    }
  }
  for (const scalar of scalars) {
    if (typeof scalar.value !== 'string' || !scalar.range) continue;
    const start = scalar.range[0];
    const source = ctx.text.slice(start, scalar.range[1]);
    if (ctx.shared) {
      for (const m of source.matchAll(UNSAFE_PG)) {
        if (!startsSetting(source, m.index)) continue;
        const value = (m[3] ?? m[5]) as string;
        const valueAt =
          start + m.index + (m[1] as string).length + (m[2] as string).length + (m[4]?.length ?? 0);
        const fix = {
          title: `Set ${m[1]} to on`,
          edits: [{ offset: valueAt, length: value.length, newText: 'on' }],
        };
        report(
          ctx,
          'postgres-durability',
          'warning',
          durabilityMessage(m[1] as string, value),
          start + m.index,
          start + m.index + m[0].length,
          s.name,
          fix,
        );
      }
    }
    if (hasInterpolation(scalar.value)) continue;
    for (const m of source.matchAll(SHARED_BUFFERS)) {
      if (!startsSetting(source, m.index)) continue;
      checkSharedBuffers(ctx, s, full, start + m.index, m);
    }
  }
}

function checkSharedBuffers(
  ctx: Ctx,
  s: ServiceEntry,
  full: Record<string, unknown>,
  at: number,
  m: RegExpMatchArray,
): void {
  const bytes = parsePostgresBytes(m[2] as string);
  const limitSetting = firstSet(full, MEM_LIMIT);
  // Without a limit, apply sizes one from shared_buffers itself (memoryLimitFor): nothing to report.
  if (!limitSetting) return;
  const limit = parseComposeBytes(limitSetting.value);
  if (bytes === undefined || limit === undefined) return;
  const share = STANDARD.postgres.sharedBuffersMaxShare;
  const max = Math.floor((limit * share) / 1024 ** 2) * 1024 ** 2;
  if (bytes <= max) return;
  const limitText = `the memory limit ${String(limitSetting.value)}`;
  const valueAt = at + 'shared_buffers'.length + (m[1] as string).length;
  const fix = {
    title: `Set shared_buffers to ${max / 1024 ** 2}MB`,
    edits: [{ offset: valueAt, length: (m[2] as string).length, newText: `${max / 1024 ** 2}MB` }],
  };
  const msg = `PostgreSQL shared_buffers=${m[2]} is above ${share * 100}% of ${limitText}: queries and connections then push the container into the OOM killer`;
  report(ctx, 'postgres-shared-buffers', 'warning', msg, at, at + m[0].length, s.name, fix);
}

function checkTestOnly(
  ctx: Ctx,
  s: ServiceEntry,
  node: YAMLMap<Scalar, Node>,
  full: Record<string, unknown>,
  find: (key: string) => Resolved | undefined,
): void {
  const restart = full.restart;
  // `deploy.restart_policy.condition: any` restarts whatever the exit, like `always`.
  const condition = getPath(full, ['deploy', 'restart_policy', 'condition']);
  const restartPair = find('restart');
  if (restart === 'always' || restart === 'unless-stopped') {
    const own = restartPair?.pair.value;
    const fix = isScalar(own)
      ? fixOf('Set restart to "no"', replaceScalar(own, STANDARD.restart.test))
      : fixOf('Set restart to "no"', insertIntoMap(ctx.text, node, { restart: STANDARD.restart.test }));
    reportAt(
      ctx,
      'restart-in-test',
      'warning',
      `restart: ${restart} in a test file: the container comes back after the run (and after a daemon restart) and holds memory, ports and names`,
      own,
      s.pair.key,
      s.name,
      fix,
    );
  } else if (condition === 'any') {
    const deploy = find('deploy')?.pair.value;
    const own = isMap(deploy)
      ? nodeAt(deploy as YAMLMap<Scalar, Node>, ['restart_policy', 'condition'])
      : undefined;
    const msg =
      'deploy.restart_policy.condition: any in a test file: like restart: always, the container comes back after the run and holds memory, ports and names';
    if (isScalar(own))
      reportAt(
        ctx,
        'restart-in-test',
        'warning',
        msg,
        own,
        s.pair.key,
        s.name,
        fixOf('Set the condition to "none"', replaceScalar(own, 'none')),
      );
    else inherited(ctx, s, node, 'restart-in-test', `${msg} (inherited through extends)`);
  }
  const name = find('container_name');
  const namePair = name?.pair;
  if (name && namePair && isScalar(namePair.value) && !hasInterpolation(namePair.value.value)) {
    const fix = fixOf(
      'Remove container_name (compose names containers per project)',
      removePair(ctx.text, name.map, namePair),
    );
    reportAt(
      ctx,
      'fixed-container-name',
      'warning',
      containerNameMessage(String(namePair.value.value)),
      namePair.value,
      namePair.key,
      s.name,
      fix,
    );
  } else if (!name && typeof full.container_name === 'string' && !hasInterpolation(full.container_name)) {
    inherited(
      ctx,
      s,
      node,
      'fixed-container-name',
      `${containerNameMessage(full.container_name)} (inherited through extends)`,
    );
  }
  const ports = find('ports')?.pair.value;
  if (!ports && Array.isArray(full.ports)) {
    for (const p of full.ports.filter(fixedHostPort))
      inherited(
        ctx,
        s,
        node,
        'fixed-host-port',
        `${portMessage(isRecord(p) ? String(p.published) : String(p))} (inherited through extends)`,
      );
  }
  if (!isSeq(ports)) return;
  for (const item of (ports as YAMLSeq<Node>).items) {
    if (isScalar(item)) checkShortPort(ctx, s, item);
    else if (isMap(item)) {
      const map = item as YAMLMap<Scalar, Node>;
      const published = mapPair(map, 'published');
      const value = published?.value;
      if (
        !published ||
        !isScalar(value) ||
        value.value === null ||
        hasInterpolation(value.value) ||
        String(value.value) === '' ||
        String(value.value) === '0'
      )
        continue;
      const fix = fixOf('Let Docker choose the host port', removePair(ctx.text, map, published));
      reportAt(
        ctx,
        'fixed-host-port',
        'warning',
        portMessage(String(value.value)),
        value,
        published.key,
        s.name,
        fix,
      );
    }
  }
}

/** A plain port entry that names a host port (`8080:80`, `127.0.0.1:8080:80`, `{published: 8080}`). */
function fixedHostPort(p: unknown): boolean {
  if (isRecord(p))
    return (
      p.published !== undefined &&
      p.published !== null &&
      String(p.published) !== '' &&
      String(p.published) !== '0' &&
      !hasInterpolation(p.published)
    );
  if (typeof p !== 'string' || hasInterpolation(p)) return false;
  const parts = p.replace(/^\[[^\]]*\]/, 'ip').split(':');
  const host = parts.length >= 2 ? parts[parts.length - 2] : undefined;
  return host !== undefined && host !== '' && host !== '0';
}

function containerNameMessage(name: string): string {
  return `container_name "${name}" is fixed: two test runs at once (or a leftover container) collide on it`;
}

function portMessage(host: string): string {
  return `host port ${host} is fixed: two test runs at once (or any other process on it) fail with "port is already allocated"; publish the container port alone and ask Docker which host port it chose`;
}

function checkShortPort(ctx: Ctx, s: ServiceEntry, item: Scalar): void {
  if (typeof item.value !== 'string' || hasInterpolation(item.value)) return;
  const value = item.value;
  // [ip:]host:container[/proto]; an IPv6 ip is bracketed.
  const ipv6 = /^(\[[^\]]*\]):(.*)$/.exec(value);
  const ip = ipv6 ? ipv6[1] : undefined;
  const rest = ipv6 ? (ipv6[2] as string) : value;
  const parts = rest.split(':');
  let hostIp = ip;
  let host: string | undefined;
  let container: string;
  if (ip !== undefined) {
    if (parts.length !== 2) return;
    [host, container] = parts as [string, string];
  } else if (parts.length === 3) [hostIp, host, container] = parts as [string, string, string];
  else if (parts.length === 2) [host, container] = parts as [string, string];
  else return;
  if (host === undefined || host === '' || host === '0') return;
  const replacement = hostIp !== undefined ? `${hostIp}::${container}` : container;
  reportAt(
    ctx,
    'fixed-host-port',
    'warning',
    portMessage(host),
    item,
    item,
    s.name,
    fixOf('Let Docker choose the host port', replaceScalar(item, replacement)),
  );
}
