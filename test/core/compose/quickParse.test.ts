// The light parser of the plain subset against `yaml`: wherever it gives a tree, the tree is the
// one yaml composes (classes, values, ranges, scalar types, formats), and it gives none where yaml
// reports an error or a warning. Over every part of the fixtures, of the bench's file, and of
// random parts mixing the forms of the subset with the forms just outside it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { composeLayout } from '../../../src/core/compose/layout';
import { parsePart, partSchema } from '../../../src/core/compose/model';
import { quickPart } from '../../../src/core/compose/quickParse';
import { fixtureNames, fixturePath } from './fixtures';
import { random } from '../../helpers/random';

/** Compares every part of `text` (as the check in parts splits it); how many the light parser took, of how many. */
function compareParts(text: string, label: string): { quick: number; parts: number } {
  const layout = composeLayout(text);
  const ranges: Array<[number, number]> = [];
  for (const s of layout ?? [{ start: 0, end: text.length }]) {
    const starts = 'services' in s && s.services ? s.services : [];
    ranges.push([s.start, starts[0] ?? s.end]);
    starts.forEach((at, i) => ranges.push([at, starts[i + 1] ?? s.end]));
  }
  let quick = 0;
  for (const [start, end] of ranges) quick += comparePart(text, start, end, label) ? 1 : 0;
  return { quick, parts: ranges.length };
}

function comparePart(text: string, start: number, end: number, label: string): boolean {
  const schema = partSchema();
  const q = quickPart(text, start, end, schema);
  if (!q) return false;
  const doc = parsePart(text, start, end, partSchema());
  const where = `${label}: ${JSON.stringify(text.slice(start, end))}`;
  assert.deepEqual(doc.errors, [], `${where}: yaml reports errors, the light parser none`);
  assert.deepEqual(doc.warnings, [], `${where}: yaml warns, the light parser does not`);
  assert.deepStrictEqual(q, doc.contents, where);
  return true;
}

/** The service pattern of bench/compose.bench.ts (importing the bench would run it). */
function generated(n: number): string {
  const parts = ['services:'];
  for (let i = 0; i < n; i++)
    parts.push(
      `  svc${i}:\n    image: postgres:16-alpine\n    command: postgres -c fsync=off\n    ports: ["${5000 + (i % 1000)}:5432"]\n    environment: {A: "1", B: "two"}`,
    );
  return parts.join('\n') + '\n';
}

const KEYS = [
  'image',
  'command',
  'k',
  'a b',
  'a:b',
  'a::',
  '1',
  '0x1F',
  'true',
  'null',
  '~',
  'x-y',
  'a.b',
  'a/b',
  'é',
  'a[b]',
  'a{b}',
  'a,b',
  'a"b',
  "a'b",
  '"quoted"',
  "'single'",
  '<<',
  '-k',
  '?k',
  'k ',
  '[a]',
  '{a: 1}',
  '&a k',
  '!t k',
  '...',
  'a#b',
  'a - b',
  '12:30',
  'ü',
  'a\u00a0',
  'k'.repeat(999),
  'k'.repeat(1030),
];
const SCALARS = [
  'x',
  'postgres:16-alpine',
  'postgres -c fsync=off',
  'a  b',
  '-c',
  '1',
  '-1',
  '+1',
  '0x1F',
  '0o17',
  '0b1',
  '012',
  '1_000',
  '1.50',
  '1.',
  '.5',
  '1e3',
  '-1E-3',
  '.inf',
  '-.Inf',
  '+.INF',
  '.nan',
  '.NaN',
  'true',
  'False',
  'TRUE',
  'yes',
  'on',
  'null',
  'Null',
  'NULL',
  '~',
  'nul',
  't',
  'f',
  'n',
  '-',
  '--x',
  '- x',
  ':x',
  'a:b',
  'a: b',
  'a:',
  '1:2',
  'x,y',
  'a]b',
  'a}b',
  'a[b',
  'é ü',
  "it's",
  'a "q" b',
  '@x',
  '%x',
  '`x',
  '!x',
  '!!str x',
  '&a x',
  '*a',
  '? x',
  '| x',
  '> x',
  'a #b',
  'a#b',
  'a -',
  '$VAR',
  '${A:-1}',
  '256M',
  '0.5',
  '10m',
  'a\\b',
  '"x"',
  '"a\\"b"',
  '"a\\nb"',
  "'x'",
  "'it''s'",
  'a\u00a0b',
  '\u00a0x',
  'ü:ö',
  '日本 語',
  'k'.repeat(1100),
  '""',
  "''",
  '"a # b"',
  '"unclosed',
  "'unclosed",
  '"a" x',
  '"5000:5432"',
  "' sp '",
];
const FLOWS = [
  '[]',
  '{}',
  '[a, b]',
  '[ a , b ]',
  '[a,b]',
  '["5000:5432"]',
  '{A: "1", B: two}',
  '{a: 1,b: 2}',
  '{ a: 1 }',
  '{a : 1}',
  '[a, ]',
  '[a: b]',
  '{a}',
  '{"a": 1}',
  '{"a":1}',
  '[[a], {b: c}]',
  '[a, [b, [c]]]',
  '[a b, c]',
  '[-x]',
  '[- x]',
  '[a:b]',
  '[a:]',
  '{a: [1, 2], b: {c: d}}',
  '[true, 1, null, ~, 1.50, 0x1F]',
  '{a: }',
  '[,]',
  '[a,,b]',
  '[a] x',
  '[a',
  '{a: 1',
  '[ ]',
  '{ }',
  '["a" , \'b\' ]',
  '[a ,b]',
  '{a: b, c: d, }',
  '[*x]',
  '[&a x]',
  '[!t x]',
  '{a: b: c}',
  '[a, {b: [c, d]}, e]',
  '{? a: b}',
  '[a]]',
  '[a]b',
  '{a: "x"y}',
];

/** A random part: a service of block mappings, sequences and values, with some forms outside the subset. */
function randomPart(rnd: () => number, indent: number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const value = (): string => (rnd() < 0.7 ? pick(SCALARS) : pick(FLOWS));
  const lines: string[] = [];
  const body = (depth: number, at: number): void => {
    const n = 1 + Math.floor(rnd() * 4);
    for (let i = 0; i < n; i++) {
      const key = rnd() < 0.8 ? pick(KEYS.slice(0, 8)) + (rnd() < 0.5 ? String(i) : '') : pick(KEYS);
      const pad = ' '.repeat(at);
      const r = rnd();
      if (r < 0.55 || depth > 2) lines.push(`${pad}${key}:${rnd() < 0.05 ? '  ' : ' '}${value()}`);
      else if (r < 0.7) {
        lines.push(`${pad}${key}:`);
        body(depth + 1, at + (rnd() < 0.9 ? 2 : 3));
      } else if (r < 0.85) {
        lines.push(`${pad}${key}:`);
        const inner = at + (rnd() < 0.3 ? 0 : 2);
        const m = 1 + Math.floor(rnd() * 3);
        for (let j = 0; j < m; j++) {
          const dash = `${' '.repeat(inner)}-${rnd() < 0.05 ? '' : ' '}`;
          if (rnd() < 0.6) lines.push(`${dash}${value()}`);
          else {
            // A mapping as the item: its first key on the dash's line, the others below it.
            const first = lines.length;
            body(depth + 1, inner + 2);
            const line = lines[first] as string;
            lines[first] = dash + line.slice(inner + (rnd() < 0.1 ? 3 : 2));
          }
        }
      } else lines.push(`${pad}${key}:`);
      const odd = rnd();
      if (odd < 0.02) lines.push('');
      else if (odd < 0.04) lines.push(`${pad}# comment`);
      else if (odd < 0.05) lines[lines.length - 1] += ' ';
      else if (odd < 0.06) lines.push(`${pad}  continued`);
      else if (odd < 0.07) lines.push(`${pad}\tx: 1`);
    }
  };
  lines.push(`${' '.repeat(indent)}svc:`);
  body(0, indent + 2);
  const trailing = rnd();
  const blank = trailing < 0.1 ? '\n\n' : trailing < 0.15 ? '   \n \n' : '';
  return lines.join('\n') + (rnd() < 0.9 ? '\n' : '') + blank;
}

describe('compose light parser (plain subset) gives the tree yaml gives', function () {
  this.timeout(120_000);

  it('on every part of the bench file (where the light parser takes every one)', () => {
    const text = generated(300);
    const r = compareParts(text, 'bench');
    assert.equal(r.quick, r.parts, 'every part of the bench file is in the subset');
  });

  it('on every part of the project fixtures that it takes', () => {
    let quick = 0;
    for (const name of fixtureNames())
      quick += compareParts(readFileSync(fixturePath(name), 'utf8'), name).quick;
    assert.ok(quick > 0, 'some fixture parts are in the subset');
  });

  it('on random parts mixing the subset with forms just outside it', () => {
    let quick = 0;
    let total = 0;
    for (let seed = 1; seed <= 6000; seed++) {
      const rnd = random(seed);
      const prefix = rnd() < 0.5 ? 'services:\n' : 'x-top: 1\n';
      const text =
        prefix + randomPart(rnd, rnd() < 0.8 ? 2 : 0) + (rnd() < 0.5 ? '  next:\n    image: x\n' : '');
      const start = prefix.length;
      const next = text.indexOf('\n  next:', start);
      const end = next < 0 ? text.length : next + 1;
      total++;
      if (comparePart(text, start, end, `seed ${seed}`)) quick++;
    }
    // Both sides of the comparison are exercised.
    assert.ok(quick > total / 5 && quick < total, `${quick} of ${total} random parts taken`);
  });
});
