// The one way a capability's option is declared and checked. Each capability lists its fields
// (default, type, range, pattern) in src/core/options/<capability>.ts; the extension settings,
// the CLI config file and the library check a value against the same field, so one input is
// accepted or refused alike everywhere, with the same words.

export interface NumberField {
  kind: 'number';
  def: number;
  min: number;
  max: number;
  integer?: boolean;
  /** What the error says the value must be, when the range alone says it badly (`a number of milliseconds >= 0`). */
  expected?: string;
}
export interface BooleanField {
  kind: 'boolean';
  def: boolean;
}
export interface StringField {
  kind: 'string';
  def: string;
  pattern?: RegExp;
  expected?: string;
}
export interface EnumField {
  kind: 'enum';
  def: string;
  values: readonly string[];
}
export interface StringListField {
  kind: 'stringArray';
  def: readonly string[];
  expected?: string;
}
export type Field = NumberField | BooleanField | StringField | EnumField | StringListField;

/** The value a field holds once checked: strings trimmed, enum values upper-cased. */
export type FieldValue<F extends Field> = F extends NumberField
  ? number
  : F extends BooleanField
    ? boolean
    : F extends StringListField
      ? string[]
      : string;

export type Checked<T> = { ok: true; value: T } | { ok: false; expected: string };

/** Checks one raw value against its field; the refusal says what the value must be. */
export function checkField<F extends Field>(field: F, raw: unknown): Checked<FieldValue<F>> {
  const f: Field = field;
  const pass = (value: unknown): Checked<FieldValue<F>> => ({ ok: true, value: value as FieldValue<F> });
  switch (f.kind) {
    case 'number':
      return typeof raw === 'number' &&
        Number.isFinite(raw) &&
        raw >= f.min &&
        raw <= f.max &&
        (!f.integer || Number.isInteger(raw))
        ? pass(raw)
        : {
            ok: false,
            expected: f.expected ?? `${f.integer ? 'an integer' : 'a number'} from ${f.min} to ${f.max}`,
          };
    case 'boolean':
      return typeof raw === 'boolean' ? pass(raw) : { ok: false, expected: 'true or false' };
    case 'string':
      return typeof raw === 'string' && (!f.pattern || f.pattern.test(raw.trim()))
        ? pass(raw.trim())
        : { ok: false, expected: f.expected ?? 'a string' };
    case 'enum':
      return typeof raw === 'string' && f.values.includes(raw.toUpperCase())
        ? pass(raw.toUpperCase())
        : { ok: false, expected: `one of ${f.values.join(', ')}` };
    case 'stringArray':
      return Array.isArray(raw) && raw.every((s) => typeof s === 'string' && s.trim() !== '')
        ? pass(raw.map((s: string) => s.trim()))
        : { ok: false, expected: f.expected ?? 'a list of non-empty strings' };
  }
}

/** The one-line refusal every adapter prints: `<where> must be <expected> (got <value>)`. */
export function fieldProblem(where: string, expected: string, raw: unknown): string {
  return `${where} must be ${expected} (got ${JSON.stringify(raw)})`;
}

export interface SectionResult<T> {
  values: Partial<T>;
  /** One line per refused key, naming it (`<where>.<key> ...`). */
  problems: string[];
}

/**
 * Checks a section of a config file (`{ "olderThanMs": 0 }`) key by key against its fields:
 * an unknown key or a bad value is a problem naming `<where>.<key>`; what passes is returned.
 */
export function checkSection<K extends string>(
  fields: Readonly<Record<K, Field>>,
  section: unknown,
  where: string,
  allowed: readonly K[] = Object.keys(fields) as K[],
): SectionResult<Record<K, unknown>> {
  if (section === undefined) return { values: {}, problems: [] };
  if (typeof section !== 'object' || section === null || Array.isArray(section))
    return { values: {}, problems: [`${where} must be an object (got ${JSON.stringify(section)})`] };
  const values: Partial<Record<K, unknown>> = {};
  const problems: string[] = [];
  for (const [key, raw] of Object.entries(section)) {
    if (!(allowed as readonly string[]).includes(key)) {
      problems.push(`${where}.${key} is not a setting (use ${allowed.join(', ')})`);
      continue;
    }
    const checked = checkField(fields[key as K], raw);
    if (checked.ok) values[key as K] = checked.value;
    else problems.push(fieldProblem(`${where}.${key}`, checked.expected, raw));
  }
  return { values, problems };
}
