import { existsSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import {
  checkCompose,
  fileFinding,
  loadedFiles,
  overridePath,
  planApply,
  readComposeFile,
  readComposeText,
  runCompose,
  writeApply,
  type Finding,
  type Severity,
} from '../../core/compose/index';
import { stripControlChars } from '../../core/util/terminalText';
import { CliError, ExitCode, parse, printJson, useColor, type Command } from '../util';
import { paint, type TextStyle } from '../style';
import { errorMessage } from '../../shared/errors';

const USAGE = [
  'docker-stability compose check <file...> [--json] [--fail-on error|warning|info] [--kind auto|test|dev|base] [--test-glob <glob>]... [--private-daemon]',
  '       docker-stability compose apply <file> [--in-place] [--dry-run] [--variant test|dev] [--no-validate]',
  '       docker-stability compose up <file> [--project-name <name>]',
  '       docker-stability compose down <file> [--volumes] [--project-name <name>]',
].join('\n');

const RANK: Record<Severity, number> = { info: 0, warning: 1, error: 2 };

function oneOf<T extends string>(
  value: string | undefined,
  allowed: readonly T[],
  name: string,
): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value))
    throw new CliError(`--${name} must be one of ${allowed.join(', ')} (got "${value}")`, ExitCode.usage);
  return value as T;
}

function unreadable(error: string): Finding {
  return fileFinding('error', `cannot read the file: ${error}`);
}

async function check(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      options: {
        json: { type: 'boolean' },
        'fail-on': { type: 'string' },
        kind: { type: 'string' },
        'private-daemon': { type: 'boolean' },
        'test-glob': { type: 'string', multiple: true },
      },
      allowPositionals: true,
    },
    USAGE,
  );
  if (positionals.length === 0)
    throw new CliError(`compose check needs at least one file\nusage: ${USAGE}`, ExitCode.usage);
  const failOn = oneOf(values['fail-on'], ['error', 'warning', 'info'] as const, 'fail-on') ?? 'error';
  const fileKind = oneOf(values.kind, ['auto', 'test', 'dev', 'base'] as const, 'kind') ?? 'auto';
  const testGlobs = values['test-glob'];
  const readFile = (p: string): string | undefined => readComposeText(p);
  // A file that cannot be read is one error finding of its own: the other files are still checked.
  const results = positionals.map((file) => {
    const read = readComposeFile(file);
    if (!('text' in read)) return { file, findings: [unreadable(read.error)] };
    return {
      file,
      findings: checkCompose(read.text, resolve(file), {
        fileKind,
        sharedEnvironment: !values['private-daemon'],
        readFile,
        testGlobs,
      }),
    };
  });
  if (values.json) {
    printJson(results.flatMap(({ file, findings }) => findings.map((f) => ({ file, ...f }))));
  } else {
    const color = useColor();
    const SEVERITY_STYLE: Record<Severity, TextStyle> = { error: 'red', warning: 'yellow', info: 'cyan' };
    for (const { file, findings } of results) {
      for (const f of findings) {
        const fix = f.fix ? `  (fix: ${f.fix.title})` : '';
        // File and service names are the repository's: printed stripped.
        process.stdout.write(
          `${stripControlChars(file)}:${f.line}:${f.column}  ${paint(SEVERITY_STYLE[f.severity], f.severity.padEnd(7), color)}  ${f.rule}  ${stripControlChars(f.message + fix)}\n`,
        );
      }
    }
    const all = results.flatMap((r) => r.findings);
    const count = (s: Severity): number => all.filter((f) => f.severity === s).length;
    process.stdout.write(
      `${results.length} file(s): ${count('error')} error(s), ${count('warning')} warning(s), ${count('info')} info\n`,
    );
  }
  const failing = results.some((r) => r.findings.some((f: Finding) => RANK[f.severity] >= RANK[failOn]));
  return failing ? ExitCode.failure : ExitCode.ok;
}

/** The diff quotes the compose file: each line is stripped before it is coloured. */
function colorDiff(diff: string): string {
  const lines = diff.split('\n').map(stripControlChars);
  const color = useColor();
  return lines
    .map((l) =>
      l.startsWith('+') && !l.startsWith('+++')
        ? paint('green', l, color)
        : l.startsWith('-') && !l.startsWith('---')
          ? paint('red', l, color)
          : l.startsWith('@@')
            ? paint('cyan', l, color)
            : l,
    )
    .join('\n');
}

async function apply(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      options: {
        'in-place': { type: 'boolean' },
        'dry-run': { type: 'boolean' },
        variant: { type: 'string' },
        'no-validate': { type: 'boolean' },
      },
      allowPositionals: true,
    },
    USAGE,
  );
  if (positionals.length !== 1)
    throw new CliError(`compose apply takes exactly one file\nusage: ${USAGE}`, ExitCode.usage);
  const variant = oneOf(values.variant, ['test', 'dev'] as const, 'variant');
  let plan;
  try {
    plan = await planApply(positionals[0] as string, { inPlace: values['in-place'], variant });
  } catch (err) {
    throw new CliError(errorMessage(err));
  }
  for (const c of plan.changes) process.stdout.write(`  ${stripControlChars(c)}\n`);
  if (plan.diff === '') {
    process.stdout.write(`nothing to change (variant ${plan.variant})\n`);
    return ExitCode.ok;
  }
  process.stdout.write(colorDiff(plan.diff));
  if (values['dry-run']) {
    process.stdout.write(
      `dry run: ${stripControlChars(relative(process.cwd(), plan.targetFile))} not written\n`,
    );
    return ExitCode.ok;
  }
  try {
    const result = await writeApply(plan, { validate: !values['no-validate'] });
    const backup = result.backup ? ` (previous version in ${relative(process.cwd(), result.backup)})` : '';
    process.stdout.write(
      stripControlChars(`wrote ${relative(process.cwd(), result.written)}${backup}`) + '\n',
    );
  } catch (err) {
    throw new CliError(errorMessage(err));
  }
  return ExitCode.ok;
}

/** What compose loads for the project (override file, COMPOSE_FILE), then the generated override, if any. */
function filesFor(file: string): string[] {
  const abs = resolve(file);
  const read = readComposeFile(abs);
  if (!('text' in read))
    throw new CliError(
      read.missing ? `compose file not found: ${file}` : `cannot read ${file}: ${read.error}`,
    );
  const override = overridePath(abs);
  const files = loadedFiles(abs).files.filter((f) => f !== override);
  return existsSync(override) ? [...files, override] : files;
}

async function upOrDown(verb: 'up' | 'down', argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    argv,
    { options: { 'project-name': { type: 'string' }, volumes: { type: 'boolean' } }, allowPositionals: true },
    USAGE,
  );
  if (positionals.length !== 1)
    throw new CliError(`compose ${verb} takes exactly one file\nusage: ${USAGE}`, ExitCode.usage);
  if (verb === 'up' && values.volumes)
    throw new CliError('--volumes is an option of compose down', ExitCode.usage);
  const files = filesFor(positionals[0] as string);
  if (verb === 'up' && !files.includes(overridePath(resolve(positionals[0] as string))))
    process.stderr.write(
      'docker-stability: no override next to this file (run `compose apply` first): starting it as it is\n',
    );
  const args = verb === 'up' ? ['up', '-d'] : ['down', ...(values.volumes ? ['-v'] : [])];
  const r = await runCompose(files, args, { projectName: values['project-name'], stdio: 'inherit' });
  return r.code === 0 ? ExitCode.ok : ExitCode.failure;
}

export const composeCommand: Command = {
  name: 'compose',
  summary: 'Check compose files for instability causes, apply the base standard, start/stop with it',
  usage: USAGE,
  async run(argv) {
    const [sub, ...rest] = argv;
    switch (sub) {
      case 'check':
        return check(rest);
      case 'apply':
        return apply(rest);
      case 'up':
      case 'down':
        return upOrDown(sub, rest);
      default:
        throw new CliError(
          `${sub ? `unknown compose subcommand "${sub}"` : 'compose needs a subcommand'}\nusage: ${USAGE}`,
          ExitCode.usage,
        );
    }
  },
};
