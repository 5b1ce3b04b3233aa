import { stripControlChars } from '../../core/util/terminalText';
import { CliError, ExitCode, parse } from '../util';
import { cliError, common, manager, USAGE } from './lockCommon';

export async function forceRelease(argv: string[]): Promise<number> {
  const { values } = parse(
    argv,
    {
      options: {
        ...common,
        name: { type: 'string' },
        why: { type: 'string' },
        'stale-only': { type: 'boolean' },
        force: { type: 'boolean' },
      },
    },
    USAGE,
  );
  if (values.force && values['stale-only'])
    throw new CliError('--force and --stale-only contradict each other', ExitCode.usage);
  if (values.name === undefined)
    throw new CliError(`force-release needs --name\nusage: ${USAGE}`, ExitCode.usage);
  const r = await manager(values)
    .forceRelease(values.name, { why: values.why, staleOnly: !values.force })
    .catch((err: unknown) => {
      throw cliError(err);
    });
  if (!r.released) throw new CliError(`${r.reason}${r.previous ? '; pass --force to remove it anyway' : ''}`);
  const p = r.previous;
  process.stderr.write(
    stripControlChars(
      `lock "${values.name}" force-released (${r.reason})${p ? `; was held by ${p.user}@${p.host} pid ${p.pid}` : ''}`,
    ) + '\n',
  );
  return ExitCode.ok;
}
