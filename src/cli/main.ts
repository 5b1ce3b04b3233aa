import { commands } from './commands/index';
import { ExitCode, reportError } from './util';

const VERSION = '0.1.0';

async function help(): Promise<string> {
  const all = await Promise.all(commands.map((c) => c.load()));
  const width = Math.max(...all.map((c) => c.name.length));
  const lines = all.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    'docker-stability: keeps Docker test environments stable',
    '',
    'usage: docker-stability <command> [options]',
    '',
    'commands:',
    ...lines,
    '',
    'Common options: --host <endpoint> (else DOCKER_HOST, the docker context, the default socket),',
    '--call-timeout <ms>. Run `docker-stability <command> --help` for a command’s options.',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write((await help()) + '\n');
    return name ? ExitCode.ok : ExitCode.usage;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(VERSION + '\n');
    return ExitCode.ok;
  }
  const entry = commands.find((c) => c.name === name);
  if (!entry) {
    process.stderr.write(`docker-stability: unknown command "${name}"\n\n${await help()}\n`);
    return ExitCode.usage;
  }
  const command = await entry.load();
  const own = rest.includes('--') ? rest.slice(0, rest.indexOf('--')) : rest;
  if (own.includes('--help') || own.includes('-h')) {
    process.stdout.write(`usage: ${command.usage}\n\n${command.summary}\n`);
    return ExitCode.ok;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    return reportError(err);
  }
}

// `docker-stability … | head` closes the pipe early: that ends the output, not in a crash.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.exitCode = reportError(err);
  },
);
