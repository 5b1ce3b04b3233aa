/**
 * Which compose files are test files: those whose name or folder says so by word
 * (`docker-compose.test.yml`, `compose.ci.yaml`, `test/`, `e2e/`, `it/`), not any name holding
 * the letters (`docker-compose.latest.yml` is not one), or those matching the user's globs.
 */
import { sep } from 'node:path';

/** Words that make a file name or a folder a test one. */
export const TEST_WORDS = ['test', 'tests', 'testing', 'ci', 'e2e', 'it', 'integration', 'acceptance'];

function words(segment: string): string[] {
  return segment
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w !== '');
}

/**
 * `globs` (matched against the path with `/` separators; `**`, `*`, `?` and `{a,b}`) replace the
 * word rule when given.
 */
export function isTestFile(file: string, globs?: readonly string[]): boolean {
  const path = file.split(sep).join('/');
  if (globs && globs.length > 0) return globs.some((g) => globRegExp(g).test(path));
  const segments = path.split('/').filter((s) => s !== '');
  const name = segments.pop() ?? '';
  // The two nearest folders only (`test/`, `tests/integration/docker/`): a checkout under
  // /home/ci/ or a fixture folder deep inside test/ says nothing about the file itself.
  const folders = segments.slice(-2);
  return (
    words(name).some((w) => TEST_WORDS.includes(w)) ||
    folders.some((f) => TEST_WORDS.includes(f.toLowerCase()))
  );
}

const globCache = new Map<string, RegExp>();

/** A glob as a regular expression over a `/`-separated path. */
export function globRegExp(glob: string): RegExp {
  const cached = globCache.get(glob);
  if (cached) return cached;
  let re = '';
  let depth = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*' && glob[i + 1] === '*') {
      i++;
      if (glob[i + 1] === '/') {
        i++;
        re += '(?:[^/]*/)*';
      } else re += '.*';
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '{') {
      depth++;
      re += '(?:';
    } else if (c === '}' && depth > 0) {
      depth--;
      re += ')';
    } else if (c === ',' && depth > 0) re += '|';
    else re += c.replace(/[.+^$()|[\]\\]/g, '\\$&');
  }
  // Anchored at a folder boundary: `*.ci.yml` matches the base name in any folder, `test/**` any test/ folder.
  const anchored = new RegExp(`(?:^|/)${re}$`, 'i');
  globCache.set(glob, anchored);
  return anchored;
}

/**
 * Validates test-file globs from a setting: a list of non-empty strings that each compile. On a
 * bad one the word rule is kept (`globs` empty) and `error` says which, in one line.
 */
export function validateTestGlobs(value: unknown): { globs: string[]; error?: string } {
  if (!Array.isArray(value)) return { globs: [], error: 'test-file globs must be a list of globs' };
  for (const g of value) {
    if (typeof g !== 'string' || g.trim() === '')
      return { globs: [], error: `test-file glob ${JSON.stringify(g)} is not a non-empty string` };
    try {
      globRegExp(g);
    } catch {
      return { globs: [], error: `test-file glob "${g}" is not a valid glob (an unclosed "{"?)` };
    }
  }
  return { globs: [...(value as string[])] };
}
