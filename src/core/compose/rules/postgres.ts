// PostgreSQL rules: durability switched off on a shared daemon, shared_buffers above its share.
import { isScalar, isSeq, type Node, type Scalar, type YAMLMap, type YAMLSeq } from 'yaml';
import { commandWords, imageKind } from '../images';
import type { ServiceEntry } from '../model';
import { firstSet, MEM_LIMIT } from '../patches';
import { STANDARD } from '../standard';
import { hasInterpolation, parseComposeBytes, parsePostgresBytes } from '../units';
import { inherited, report, type Ctx, type Resolved } from './context';

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

export function checkPostgres(
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
