import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** test/fixtures/compose, from the compiled test folder (out/test/core/compose) or the source one. */
export const FIXTURES = [
  resolve(__dirname, '../../../../test/fixtures/compose'),
  resolve(__dirname, '../../fixtures/compose'),
].find((d) => existsSync(d)) as string;

export function fixturePath(name: string): string {
  return join(FIXTURES, name);
}

export function readFixture(name: string): string {
  return readFileSync(fixturePath(name), 'utf8');
}

export function fixtureNames(): string[] {
  return readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.yml'))
    .sort();
}

export interface Expected {
  rule: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}

/**
 * The findings a fixture declares with `# expect: rule[text], rule[text]` comments: each covers
 * exactly `text`, at its first occurrence on that line.
 */
export function expectedFindings(text: string): Expected[] {
  const out: Expected[] = [];
  text.split('\n').forEach((line, i) => {
    const at = line.indexOf('# expect:');
    if (at < 0) return;
    const code = line.slice(0, at);
    for (const m of line.slice(at + '# expect:'.length).matchAll(/([a-z-]+)\[([^\]]+)\]/g)) {
      const col = code.indexOf(m[2] as string);
      if (col < 0) throw new Error(`fixture line ${i + 1}: "${m[2]}" is not on the line`);
      out.push({
        rule: m[1] as string,
        line: i + 1,
        column: col + 1,
        endLine: i + 1,
        endColumn: col + 1 + (m[2] as string).length,
      });
    }
  });
  return out;
}

/** Every leaf of a plain value as [dotted path, value]: what a merged compose config must keep. */
export function leaves(value: unknown, path: string[] = []): Array<[string, unknown]> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    return Object.entries(value).flatMap(([k, v]) => leaves(v, [...path, k]));
  }
  return [[path.join('.'), value]];
}

/** The value at a dotted path, or undefined. */
export function at(value: unknown, path: string): unknown {
  return path
    .split('.')
    .reduce<unknown>(
      (v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined),
      value,
    );
}
