import { promises as fsp } from 'node:fs';
import { basename, dirname, extname, join, relative, resolve } from 'node:path';
import { writeFileAtomic } from '../util/fs';
import { unifiedDiff } from './diff';
import { applyFix, eolOf, mergeMissing, renderYaml, type TextEdit } from './edits';
import { loadedFiles } from './files';
import { knownProbe, memoryNeed } from './images';
import { deepMerge, effectiveService, servicesLoader } from './extends';
import { getPath, isRecord, parseCompose, type ComposeDocument } from './model';
import { readComposeFile, readComposeText } from './read';
import { memoryLimitFor, servicePatch } from './patches';
import { STANDARD, type Variant } from './standard';
import { isTestFile } from './testFiles';
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
  /**
   * The files compose loads for this project, in order, ending with the override when the plan
   * writes or keeps one: what `compose up` must pass with `-f` so that nothing the user's own
   * files set is lost.
   */
  files: string[];
  /** COMPOSE_PROFILES at plan time (the environment, else the project's `.env`). */
  profiles: string[];
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

/** `auto` variant: test when the file's name or folder says test by word (the same test as the rules' file kind). */
export function variantFor(file: string, variant?: Variant, testGlobs?: readonly string[]): Variant {
  return variant ?? (isTestFile(file, testGlobs) ? 'test' : 'dev');
}

function describe(name: string, eff: Record<string, unknown>, patch: Record<string, unknown>): string {
  const parts: string[] = [];
  if ('init' in patch) parts.push('init: true');
  if ('restart' in patch) parts.push(`restart: "${String(patch.restart)}"`);
  const hc = patch.healthcheck;
  if (isRecord(hc))
    parts.push(
      hc.test
        ? `healthcheck (${(hc.test as string[]).slice(1).join(' ')})`
        : `healthcheck ${Object.keys(hc).join('/')}`,
    );
  const res = getPath(patch, ['deploy', 'resources']);
  const memory = getPath(res, ['limits', 'memory']) ?? patch.mem_limit;
  const cpus = getPath(res, ['limits', 'cpus']) ?? patch.cpus;
  const reservation = getPath(res, ['reservations', 'memory']) ?? patch.mem_reservation;
  const need = memoryNeed(eff, STANDARD.postgres.sharedBuffersMaxShare);
  if (memory !== undefined)
    parts.push(
      `memory limit ${String(memory)}${need && 'bytes' in need && memory !== STANDARD.resources.limits.memory ? ` (${need.reason})` : ''}`,
    );
  if (cpus !== undefined) parts.push(`cpus ${String(cpus)}`);
  if (reservation !== undefined) parts.push(`memory reservation ${String(reservation)}`);
  if (patch.logging) parts.push('log rotation');
  if (patch.command) parts.push('PostgreSQL durable settings');
  const notes: string[] = [];
  if (eff.healthcheck === undefined && !isRecord(hc)) {
    const probe = knownProbe(eff);
    notes.push(
      `no healthcheck: write one for this image by hand${probe && 'none' in probe ? ` (${probe.none})` : ''}`,
    );
  }
  if (
    need &&
    'unknown' in need &&
    memory === undefined &&
    memoryLimitFor(eff) === undefined &&
    getPath(eff, ['deploy', 'resources', 'limits', 'memory']) === undefined &&
    eff.mem_limit === undefined
  ) {
    notes.push(`no memory limit added: ${need.unknown}; set one that fits`);
  }
  if (eff.tmpfs !== undefined) notes.push('tmpfs kept (set by you): see `compose check`');
  const added = parts.length > 0 ? `adds ${parts.join(', ')}` : 'already meets the standard';
  return `${name}: ${added}${notes.length > 0 ? `; ${notes.join('; ')}` : ''}`;
}

/** A file name as it may appear in a generated comment: no line breaks (YAML 1.1 counts NEL, LS and PS too) or other controls. */
function safeName(name: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is removed
  return name.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '?');
}

/** A path as a POSIX shell word, for the "Use:" line. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

function readOrThrow(file: string): string {
  const r = readComposeFile(file);
  if ('text' in r) return r.text;
  throw new Error(r.missing ? `compose file not found: ${file}` : `cannot read ${file}: ${r.error}`);
}

/** The single document of a compose file, or a clear error. */
function composeDocument(file: string, text: string): ComposeDocument {
  const parsed = parseCompose(text);
  const name = safeName(basename(file));
  const docs = parsed.documents.filter((d) => d.doc.contents !== null || d.doc.errors.length > 0);
  if (docs.length !== 1)
    throw new Error(
      docs.length === 0
        ? `${name} is empty`
        : `${name} holds ${docs.length} YAML documents: compose v1 refuses that; split it first`,
    );
  const d = docs[0]!;
  const err = d.doc.errors[0];
  if (err) {
    const pos = parsed.lineCounter.linePos(err.pos[0]);
    throw new Error(`${name}:${pos.line}:${pos.col}: invalid YAML: ${err.message.split('\n')[0]}`);
  }
  if (!d.root) throw new Error(`${name}: the top level is not a mapping, so this is not a compose file`);
  return d;
}

/**
 * Every service of the project as compose merges it: each file's services with `extends`
 * resolved, merged in loading order (mappings merge, other values are replaced by later files).
 */
function mergedServices(
  files: string[],
  main: string,
  mainDoc: ComposeDocument,
): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const f of files) {
    const d = f === main ? mainDoc : composeDocument(f, readOrThrow(f));
    const plain = d.legacy ? d.plain : getPath(d.plain, ['services']);
    const services = isRecord(plain) ? plain : {};
    const loader = servicesLoader(f, (p) => readComposeText(p));
    for (const name of Object.keys(services)) {
      // A service whose extends cannot be resolved is judged as written: compose would fail on it anyway.
      const eff =
        effectiveService(name, services, loader) ?? (isRecord(services[name]) ? services[name] : undefined);
      if (!eff) continue;
      const prev = out[name];
      out[name] = prev ? deepMerge(prev, eff) : eff;
    }
  }
  return out;
}

export interface PlanOptions {
  inPlace?: boolean;
  variant?: Variant;
  /** Where COMPOSE_FILE, COMPOSE_PATH_SEPARATOR and COMPOSE_PROFILES are read (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Globs naming test files (replace the word rule). */
  testGlobs?: readonly string[];
}

/**
 * Computes what applying the standard to `file` would change, without writing anything.
 * Default: a generated override next to the file (the file itself untouched); `inPlace`: text
 * edits to the file that keep every existing byte, comments and formatting included. What each
 * service lacks is judged on what compose loads for the project (the override file beside a
 * default-named file, or COMPOSE_FILE), so a value set in any of those files is kept.
 */
export async function planApply(file: string, opts: PlanOptions = {}): Promise<ApplyPlan> {
  const abs = resolve(file);
  const name = safeName(basename(abs));
  if (isOverrideFile(abs))
    throw new Error(`${name} is a generated override: apply the standard to the compose file it belongs to`);
  const text = readOrThrow(abs);
  const d = composeDocument(abs, text);
  if (d.legacy)
    throw new Error(
      `${name} uses the legacy version 1 format (services at the top level): it cannot be merged with an override; move its services under \`services:\` first`,
    );
  const servicesNode = getPath(d.plain, ['services']);
  if (!isRecord(servicesNode) || Object.keys(servicesNode).length === 0) {
    throw new Error(
      `${name}: ${servicesNode === undefined || servicesNode === null ? 'no `services`' : isRecord(servicesNode) ? '`services` is empty' : '`services` is not a mapping'}: there is nothing to apply the standard to`,
    );
  }
  const variant = variantFor(abs, opts.variant, opts.testGlobs);
  const loaded = loadedFiles(abs, opts.env);
  const target = overridePath(abs);
  const userFiles = loaded.files.filter((f) => f !== target);
  const services = mergedServices(userFiles, abs, d);
  const changes: string[] = [];
  const patches: Record<string, Record<string, unknown>> = {};
  const edits: TextEdit[] = [];
  const inFile = new Map(d.services.map((s) => [s.name, s]));
  for (const [svc, eff] of Object.entries(services)) {
    const s = inFile.get(svc);
    if (s && !s.node) {
      changes.push(`${svc}: skipped: not a mapping`);
      continue;
    }
    const patch = servicePatch(eff, variant);
    changes.push(describe(svc, eff, patch));
    if (Object.keys(patch).length === 0) continue;
    patches[svc] = patch;
    if (opts.inPlace && s?.node) edits.push(...mergeMissing(text, s.node, patch, s.own));
  }

  if (opts.inPlace) {
    const after = applyFix(text, { edits });
    return {
      file: abs,
      mode: 'in-place',
      targetFile: abs,
      before: text,
      after,
      diff: unifiedDiff(text, after, abs, abs),
      changes,
      variant,
      files: userFiles,
      profiles: loaded.profiles,
    };
  }
  await refuseLink(target);
  const beforeRead = readComposeFile(target);
  if (!('text' in beforeRead) && !beforeRead.missing)
    throw new Error(`cannot read ${safeName(target)}: ${beforeRead.error}`);
  const before = 'text' in beforeRead ? beforeRead.text : '';
  const eol = eolOf(text);
  const dir = dirname(abs);
  const files = [...userFiles, target];
  const use = [
    'docker-compose',
    ...files.flatMap((f) => ['-f', shellWord(safeName(relative(dir, f)))]),
    ...loaded.profiles.flatMap((p) => ['--profile', shellWord(safeName(p))]),
    'up',
    '-d',
  ];
  const header = [
    `# Generated by docker-stability compose apply (variant: ${variant}) for ${name}.`,
    '# It adds only what each service lacks; values set in the files before it always win. Regenerate, do not edit.',
    `# Use: ${use.join(' ')}   (or: docker-stability compose up ${shellWord(name)})`,
  ];
  let after = '';
  if (Object.keys(patches).length > 0)
    after = [...header, renderYaml({ services: patches })].join('\n') + '\n';
  // A stale override must not keep adding what the user has since set: keep a valid one that
  // adds nothing. It names the services (`svc: {}`): compose v1 reads a file with an empty or no
  // `services` mapping as the legacy version 1 format and refuses to merge it ("Version mismatch").
  else if (before !== '')
    after =
      [
        ...header,
        renderYaml({ services: Object.fromEntries(Object.keys(services).map((s) => [s, {}])) }),
      ].join('\n') + '\n';
  after = after.replace(/\n/g, eol);
  return {
    file: abs,
    mode: 'override',
    targetFile: target,
    before,
    after,
    diff: unifiedDiff(before, after, target, target),
    changes,
    variant,
    files: after === '' ? userFiles : files,
    profiles: loaded.profiles,
  };
}

/** A symbolic link (or anything but a regular file) at a path apply writes would redirect the write: refuse it. */
async function refuseLink(path: string): Promise<void> {
  const st = await fsp.lstat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (st && !st.isFile())
    throw new Error(
      `${safeName(path)} is ${st.isSymbolicLink() ? 'a symbolic link' : 'not a regular file'}: apply never writes through it; remove it first`,
    );
}

/**
 * Writes a plan: validates the result with the installed compose tool first (unless told not
 * to), keeps a backup of the previous target as `<target>.bak`, then writes atomically.
 * Nothing is written when validation fails, when the target or its backup path is a symbolic
 * link, or when the target changed since the plan was made.
 * Returns `{ written: '' }` when the plan changes nothing.
 */
export async function writeApply(
  plan: ApplyPlan,
  opts: { validate?: boolean; tool?: ComposeTool } = {},
): Promise<{ written: string; backup?: string }> {
  if (plan.before === plan.after) return { written: '' };
  const backup = `${plan.targetFile}.bak`;
  await refuseLink(plan.targetFile);
  await refuseLink(backup);
  const currentRead = readComposeFile(plan.targetFile);
  if (!('text' in currentRead) && !currentRead.missing)
    throw new Error(`cannot read ${safeName(plan.targetFile)}: ${currentRead.error}`);
  const current = 'text' in currentRead ? currentRead.text : '';
  if (current !== plan.before)
    throw new Error(`${safeName(plan.targetFile)} changed since the plan was made: plan again`);
  const userFiles = plan.mode === 'override' ? plan.files.filter((f) => f !== plan.targetFile) : [];
  if (opts.validate !== false) {
    const result =
      plan.mode === 'override'
        ? await validateCandidate(
            plan.targetFile,
            plan.after,
            userFiles.length > 0 ? userFiles : [plan.file],
            [],
            opts.tool,
          )
        : await validateCandidate(
            plan.targetFile,
            plan.after,
            plan.files.slice(0, Math.max(0, plan.files.indexOf(plan.file))),
            plan.files.slice(plan.files.indexOf(plan.file) + 1),
            opts.tool,
          );
    if (!result.ok) {
      // Say whose problem it is: a file that is already invalid (a missing env_file...) is not ours.
      const original = await validateWithCompose(
        plan.mode === 'override' && userFiles.length > 0 ? userFiles : [plan.file],
        opts.tool,
      );
      const why = original.ok
        ? `the result does not validate`
        : `${safeName(basename(plan.file))} does not validate even as it is`;
      throw new Error(
        `${why}, nothing was written: ${(original.ok ? result.error : original.error) ?? 'unknown error'}`,
      );
    }
  }
  let wroteBackup = false;
  if ('text' in currentRead) {
    await writeFileAtomic(backup, current);
    wroteBackup = true;
  }
  await writeFileAtomic(plan.targetFile, plan.after);
  return wroteBackup ? { written: plan.targetFile, backup } : { written: plan.targetFile };
}
