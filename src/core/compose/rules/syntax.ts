// Rules on what compose refuses to read: unknown keys and unclosed interpolation.
import { type Node, type Scalar, type YAMLMap } from 'yaml';
import { closest } from '../editDistance';
import { replaceScalar } from '../edits';
import { NOT_IN_SPEC } from '../keys';
import { mapPair } from '../model';
import { unclosedInterpolation } from '../units';
import { isEdit, report, reportAt, type Ctx } from './context';

export function unknownKey(
  ctx: Ctx,
  map: YAMLMap<Scalar, Node>,
  key: Scalar,
  known: Set<string>,
  where: string,
  service?: string,
): void {
  const name = String(key.value);
  const instead = NOT_IN_SPEC.get(name);
  const guess = instead === undefined ? closest(name, known) : undefined;
  // Renaming onto a key the mapping already has would make a duplicate: no fix then.
  const fix =
    guess && !mapPair(map, guess)
      ? { title: `Rename to "${guess}"`, edits: [replaceScalar(key, guess)].filter(isEdit) }
      : undefined;
  const hint = instead !== undefined ? ` (${instead})` : guess ? ` (did you mean "${guess}"?)` : '';
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

/** `dollarScalars`: the string scalars that hold a `$` (see indexDocument). */
export function checkInterpolation(ctx: Ctx, dollarScalars: readonly Scalar[]): void {
  for (const node of dollarScalars) {
    if (typeof node.value !== 'string' || !node.range) continue;
    const at = unclosedInterpolation(node.value);
    if (at === undefined) continue;
    report(
      ctx,
      'interpolation-syntax',
      'error',
      `"\${" without a closing "}" in "${node.value}": compose refuses the file (write "$$" for a literal dollar)`,
      node.range[0],
      node.range[1],
    );
  }
}
