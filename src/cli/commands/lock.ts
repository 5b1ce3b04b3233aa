import { CliError, ExitCode, type Command } from '../util';
import { forceRelease } from './lockForce';
import { acquire, keep, release } from './lockKeeper';
import { cliError, USAGE } from './lockCommon';
import { run } from './lockRun';
import { status } from './lockStatus';

const SUBCOMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  status,
  run,
  acquire,
  release,
  'force-release': forceRelease,
  keep,
};

export const lockCommand: Command = {
  name: 'lock',
  summary: 'environment locks: one test run per environment, across processes',
  usage: USAGE,
  async run(argv) {
    const [sub, ...rest] = argv;
    const fn = sub ? SUBCOMMANDS[sub] : undefined;
    if (!fn)
      throw new CliError(
        `${sub ? `unknown lock subcommand "${sub}"` : 'lock needs a subcommand'}\nusage: ${USAGE}`,
        ExitCode.usage,
      );
    try {
      return await fn(rest);
    } catch (err) {
      throw cliError(err);
    }
  },
};
