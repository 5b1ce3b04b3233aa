// Cleanup's options: one declaration for the library (CleanupOptions), the CLI config file's
// `cleanup` and `runs.cleanup` sections and the extension's `dockerStability.cleanup.*`.
import { Labels, LABEL_KEY_PATTERN } from '../labels';
import {
  DEFAULT_OLDER_THAN_MS,
  DEFAULT_TEST_PROJECT_PATTERNS,
  type CleanupOptions,
  type ResolvedCleanupOptions,
} from '../cleanup/types';
import { checkField, checkSection, fieldProblem, type SectionResult } from './fields';

/** The cleanup options a settings file may set (the rest, scope and run ids, come from the caller). */
export type CleanupSettings = Pick<
  CleanupOptions,
  'olderThanMs' | 'includeImages' | 'testProjectPatterns' | 'protectLabel'
>;

export const CLEANUP_FIELDS = {
  olderThanMs: {
    kind: 'number',
    def: DEFAULT_OLDER_THAN_MS,
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
    expected: 'a number of milliseconds >= 0',
  },
  includeImages: { kind: 'boolean', def: false },
  testProjectPatterns: {
    kind: 'stringArray',
    def: DEFAULT_TEST_PROJECT_PATTERNS,
    expected: 'non-empty globs',
  },
  protectLabel: {
    kind: 'string',
    def: Labels.protect,
    pattern: LABEL_KEY_PATTERN,
    expected: 'a Docker label key',
  },
} as const;

/**
 * The age floor as the extension shows it: minutes, at most a year. The config file and the
 * library keep milliseconds, the unit of every duration in their option objects (`cooldownMs`,
 * `staleMs`); the extension converts.
 */
export const OLDER_THAN_MINUTES_FIELD = {
  kind: 'number',
  def: DEFAULT_OLDER_THAN_MS / 60_000,
  min: 0,
  max: 525600,
} as const;

export type CleanupSettingKey = keyof CleanupSettings;

/** A cleanup section of a config file, checked key by key (only `allowed` keys may appear). */
export function checkCleanupSection(
  section: unknown,
  where: string,
  allowed?: readonly CleanupSettingKey[],
): SectionResult<CleanupSettings> {
  return checkSection(CLEANUP_FIELDS, section, where, allowed) as SectionResult<CleanupSettings>;
}

/**
 * Throws the one-line refusal of the first settings key of `opts` its field refuses. The
 * library's entry point (resolveOptions) calls it, so a library caller meets the same rules as
 * the CLI and the extension.
 */
export function assertCleanupSettings(opts: CleanupSettings): void {
  for (const key of Object.keys(CLEANUP_FIELDS) as CleanupSettingKey[]) {
    const raw = opts[key];
    if (raw === undefined) continue;
    const checked = checkField(CLEANUP_FIELDS[key], raw);
    if (!checked.ok) throw new Error(fieldProblem(key, checked.expected, raw));
  }
}

/** The library's cleanup options with their defaults applied, each checked (one-line errors naming the key). */
export function resolveOptions(opts: CleanupOptions = {}): ResolvedCleanupOptions {
  assertCleanupSettings(opts);
  const scope = opts.scope ?? {};
  for (const [k, v] of Object.entries(scope)) {
    if (k.trim() === '' || typeof v !== 'string')
      throw new Error(
        `scope must map label names to string values (got ${JSON.stringify(k)}=${JSON.stringify(v)})`,
      );
  }
  if (opts.runId !== undefined && opts.runId.trim() === '') throw new Error('runId must not be empty');
  const endedRuns = opts.endedRuns ?? [];
  if (!Array.isArray(endedRuns) || endedRuns.some((r) => typeof r !== 'string' || r.trim() === ''))
    throw new Error('endedRuns must be a list of run ids');
  if (opts.runsFile !== undefined && (typeof opts.runsFile !== 'string' || opts.runsFile.trim() === ''))
    throw new Error('runsFile must be a file path');
  return {
    olderThanMs: opts.olderThanMs ?? CLEANUP_FIELDS.olderThanMs.def,
    includeImages: opts.includeImages ?? CLEANUP_FIELDS.includeImages.def,
    testProjectPatterns: opts.testProjectPatterns ?? [...CLEANUP_FIELDS.testProjectPatterns.def],
    protectLabel: opts.protectLabel ?? CLEANUP_FIELDS.protectLabel.def,
    scope: { ...scope },
    runId: opts.runId,
    endedRuns: [...endedRuns],
    runsFile: opts.runsFile,
  };
}
