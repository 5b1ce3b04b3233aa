import { existsSync, readFileSync } from 'node:fs';
import { promises as fsp } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { readFileIfExists, writeFileAtomic } from '../util/fs';
import { stripControlChars } from '../util/terminalText';
import { unifiedDiff } from './diff';
import { applyFix, eolOf, mergeMissing, renderYaml, type TextEdit } from './edits';
import { effectiveService, getPath, isRecord, parseCompose, servicesLoader } from './model';
import { healthcheckPatch, loggingPatch, resourcesPatch } from './rules';
import { isPostgresImage, knownHealthcheck, STANDARD, type Variant } from './standard';
import { validateCandidate, validateWithCompose, type ComposeTool } from './tool';

export interface ApplyPlan {
  file: string;
  mode: 'override' | 'in-place';
  targetFile: string;
  before: string;
  after: string;
  /** Unified diff of targetFile from before to after; empty when nothing changes. */
  diff: string;
  /** One line per service: what is added, and what was left for a human. */
  changes: string[];
  variant: Variant;
}

/** Suffix of generated override files: `docker-compose.yml` -> `docker-compose.stability.yml`. */
export const OVERRIDE_SUFFIX = '.stability';

/** The override file that sits next to a compose file (same folder, same extension). */
export function overridePath(file: string): string {
  const ext = extname(file) || '.yml';
  const stem = basename(file, extname(file));
  return join(dirname(resolve(file)), `${stem}${OVERRIDE_SUFFIX}${ext}`);
}

export function isOverrideFile(file: string): boolean {
  return basename(file, extname(file)).endsWith(OVERRIDE_SUFFIX);
}

/** `auto` variant: test when the file name says so (the same test as the rules' file kind). */
export function variantFor(file: string, variant?: Variant): Variant {
  return variant ?? (/test/i.test(basename(file)) ? 'test' : 'dev');
}

/**
 * Everything the standard adds to one service, given its effective configuration (`extends`
 * resolved): only keys it lacks; nothing the user set is replaced.
 */
export function servicePatch(eff: Record<string, unknown>, variant: Variant): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  if (eff.init === undefined) patch.init = STANDARD.init;
  if (eff.restart === undefined && getPath(eff, ['deploy', 'restart_policy']) === undefined) patch.restart = STANDARD.restart[variant];
  Object.assign(patch, healthcheckPatch(eff), resourcesPatch(eff), loggingPatch(eff));
  if (variant === 'test' && isPostgresImage(eff.image) && eff.command === undefined && eff.entrypoint === undefined) {
    patch.command = ['postgres', ...Object.entries(STANDARD.postgres.settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
  }
  return patch;
}

function describe(name: string, eff: Record<string, unknown>, patch: Record<string, unknown>): string {
  const parts: string[] = [];
  if ('init' in patch) parts.push('init: true');
  if ('restart' in patch) parts.push(`restart: "${String(patch.restart)}"`);
  const hc = patch.healthcheck;
  if (isRecord(hc)) parts.push(hc.test ? `healthcheck (${(hc.test as string[]).slice(1).join(' ')})` : `healthcheck ${Object.keys(hc).join('/')}`);
  const res = getPath(patch, ['deploy', 'resources']);
  const lim = getPath(res, ['limits']);
  const resv = getPath(res, ['reservations']);
  if (isRecord(lim) && lim.memory) parts.push(`memory limit ${String(lim.memory)}`);
  if (isRecord(lim) && lim.cpus) parts.push(`cpus ${String(lim.cpus)}`);
  if (isRecord(resv) && resv.memory) parts.push(`memory reservation ${String(resv.memory)}`);
  if (patch.logging) parts.push('log rotation');
  if (patch.command) parts.push('PostgreSQL durable settings');
  const notes: string[] = [];
  if (eff.healthcheck === undefined && !knownHealthcheck(eff.image)) notes.push('no healthcheck: write one for this image by hand');
  if (eff.tmpfs !== undefined) notes.push('tmpfs kept (set by you): see `compose check`');
  const added = parts.length > 0 ? `adds ${parts.join(', ')}` : 'already meets the standard';
  return `${name}: ${added}${notes.length > 0 ? `; ${notes.join('; ')}` : ''}`;
}

/**
 * Computes what applying the standard to `file` would change, without writing anything.
 * Default: a generated override next to the file (the file itself untouched); `inPlace`: text
 * edits to the file that keep every existing byte, comments and formatting included.
 */
export async function planApply(file: string, opts: { inPlace?: boolean; variant?: Variant } = {}): Promise<ApplyPlan> {
  const abs = resolve(file);
  if (isOverrideFile(abs)) throw new Error(`${basename(abs)} is a generated override: apply the standard to the compose file it belongs to`);
  const text = await readFileIfExists(abs);
  if (text === undefined) throw new Error(`compose file not found: ${abs}`);
  const parsed = parseCompose(text);
  const docs = parsed.documents.filter((d) => d.doc.contents !== null || d.doc.errors.length > 0);
  if (docs.length !== 1) throw new Error(docs.length === 0 ? `${basename(abs)} is empty` : `${basename(abs)} holds ${docs.length} YAML documents: compose v1 refuses that; split it first`);
  const d = docs[0]!;
  const err = d.doc.errors[0];
  if (err) {
    const pos = parsed.lineCounter.linePos(err.pos[0]);
    throw new Error(`${basename(abs)}:${pos.line}:${pos.col}: invalid YAML: ${err.message.split('\n')[0]}`);
  }
  if (!d.root) throw new Error(`${basename(abs)}: the top level is not a mapping, so this is not a compose file`);
  const variant = variantFor(abs, opts.variant);
  const allServices = getPath(d.doc.toJS({ maxAliasCount: 1000 }), ['services']);
  const services = isRecord(allServices) ? allServices : {};
  const loader = servicesLoader(abs, (p) => (existsSync(p) ? readFileSync(p, 'utf8') : undefined));
  const changes: string[] = [];
  const patches: Record<string, Record<string, unknown>> = {};
  const edits: TextEdit[] = [];
  for (const s of d.services) {
    const eff = effectiveService(s.name, services, loader);
    if (!eff || !s.node) {
      changes.push(`${s.name}: skipped: ${s.node ? 'it extends a file that cannot be read, so what it lacks is unknown' : 'not a mapping'}`);
      continue;
    }
    const patch = servicePatch(eff, variant);
    changes.push(describe(s.name, eff, patch));
    if (Object.keys(patch).length === 0) continue;
    patches[s.name] = patch;
    if (opts.inPlace) edits.push(...mergeMissing(text, s.node, patch, s.own));
  }

  if (opts.inPlace) {
    const after = applyFix(text, { edits });
    return { file: abs, mode: 'in-place', targetFile: abs, before: text, after, diff: unifiedDiff(text, after, abs, abs), changes, variant };
  }
  const target = overridePath(abs);
  const before = (await readFileIfExists(target)) ?? '';
  const eol = eolOf(text);
  // A file name may hold a newline: unstripped, the rest of it would be YAML of the override.
  const name = stripControlChars(basename(abs));
  const header = [
    `# Generated by docker-stability compose apply (variant: ${variant}) for ${name}.`,
    '# It adds only what each service lacks; values set in that file always win. Regenerate, do not edit.',
    `# Use: docker-compose -f ${name} -f ${stripControlChars(basename(target))} up -d   (or: docker-stability compose up ${name})`,
  ];
  let after = '';
  if (Object.keys(patches).length > 0) after = [...header, renderYaml({ services: patches })].join('\n') + '\n';
  // A stale override must not keep adding what the user has since set: keep a valid one that
  // adds nothing. It names the services (`svc: {}`): compose v1 reads a file with an empty or no
  // `services` mapping as the legacy version 1 format and refuses to merge it ("Version mismatch").
  else if (before !== '') after = [...header, renderYaml({ services: Object.fromEntries(d.services.map((s) => [s.name, {}])) })].join('\n') + '\n';
  after = after.replace(/\n/g, eol);
  return { file: abs, mode: 'override', targetFile: target, before, after, diff: unifiedDiff(before, after, target, target), changes, variant };
}

/**
 * Writes a plan: validates the result with the installed compose tool first (unless told not
 * to), keeps a backup of the previous target as `<target>.bak`, then writes atomically.
 * Nothing is written when validation fails, or when the target changed since the plan was made.
 * Returns `{ written: '' }` when the plan changes nothing.
 */
export async function writeApply(plan: ApplyPlan, opts: { validate?: boolean; tool?: ComposeTool } = {}): Promise<{ written: string; backup?: string }> {
  if (plan.before === plan.after) return { written: '' };
  const current = (await readFileIfExists(plan.targetFile)) ?? '';
  if (current !== plan.before) throw new Error(`${plan.targetFile} changed since the plan was made: plan again`);
  if (opts.validate !== false) {
    const result =
      plan.mode === 'override'
        ? await validateCandidate(plan.targetFile, plan.after, [plan.file], [], opts.tool)
        : await validateCandidate(plan.targetFile, plan.after, [], [], opts.tool);
    if (!result.ok) {
      // Say whose problem it is: a file that is already invalid (a missing env_file...) is not ours.
      const original = await validateWithCompose([plan.file], opts.tool);
      const why = original.ok ? `the result does not validate` : `${basename(plan.file)} does not validate even as it is`;
      throw new Error(`${why}, nothing was written: ${(original.ok ? result.error : original.error) ?? 'unknown error'}`);
    }
  }
  let backup: string | undefined;
  if (current !== '' || (await fsp.stat(plan.targetFile).catch(() => undefined))) {
    backup = `${plan.targetFile}.bak`;
    await writeFileAtomic(backup, current);
  }
  await writeFileAtomic(plan.targetFile, plan.after);
  return backup ? { written: plan.targetFile, backup } : { written: plan.targetFile };
}
