import { basename } from 'node:path';
import { runInTerminal } from '../child';
import { CliError, ExitCode, messageLine, parse, parseDurationOption } from '../util';
import { acquireInterruptibly, common, lockName, manager, USAGE } from './lockCommon';
import { errorMessage } from '../../shared/errors';

/** `lock run`: holds the lock while the command runs; a lost lock stops the command and exits 5. */
export async function run(argv: string[]): Promise<number> {
  const sep = argv.indexOf('--');
  if (sep < 0 || sep === argv.length - 1)
    throw new CliError(`lock run needs a command after --\nusage: ${USAGE}`, ExitCode.usage);
  const { values } = parse(
    argv.slice(0, sep),
    {
      options: {
        ...common,
        name: { type: 'string' },
        why: { type: 'string' },
        timeout: { type: 'string' },
        'lost-grace': { type: 'string' },
        shared: { type: 'boolean' },
      },
    },
    USAGE,
  );
  const command = argv.slice(sep + 1);
  const cmd = command[0] as string;
  const m = manager(values);
  const name = lockName(values.name);
  const graceMs = parseDurationOption(values['lost-grace'], 'lost-grace');
  // The command's name, not its argv: arguments can carry secrets into a shared folder.
  const why = values.why ?? basename(cmd);
  const handle = await acquireInterruptibly(
    m,
    name,
    why,
    parseDurationOption(values.timeout, 'timeout'),
    false,
    values.shared ? 'shared' : 'exclusive',
  );
  let lost: Error | undefined;
  try {
    // A process group of its own: the lock's holder lives while any process of it does, and a
    // signal reaches the whole command, not only its first process.
    // Gated: nothing of the command runs before its group is in the lock's metadata, so a
    // kill -9 of this process at any moment leaves either no command or a recorded one.
    const child = runInTerminal(command, { graceMs, gated: true });
    handle.onCompromised((err) => {
      lost = err;
      process.stderr.write(
        messageLine(
          `lock "${name}" was lost while "${basename(cmd)}" ran (${err.message}); stopping it (exit ${ExitCode.lockLost}: the run was not exclusive)`,
        ),
      );
      child.stop('SIGTERM');
    });
    if (child.command.pgid !== undefined) {
      await handle.setProcessGroup(child.command.pgid).catch((err: unknown) => {
        process.stderr.write(
          messageLine(`warning: could not record the command's process group: ${errorMessage(err)}`),
        );
      });
    }
    child.command.open();
    const code = await child.status;
    return lost ? ExitCode.lockLost : code;
  } finally {
    // A lock that cannot be removed (a read-only or vanished folder) is reported, not turned into the command's failure.
    await handle.release().catch((err: unknown) => {
      process.stderr.write(messageLine(`warning: could not release lock "${name}": ${errorMessage(err)}`));
    });
  }
}
