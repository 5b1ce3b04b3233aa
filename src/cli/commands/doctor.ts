import { runDoctor, type CheckStatus } from '../../core/doctor';
import { defaultLockDir } from '../../core/paths';
import { stripControlChars } from '../../core/util/terminalText';
import { loadCliConfig, monitorSettingsFrom } from '../config';
import { paint, useColor, type TextStyle } from '../style';
import { createClient, dockerOptions, ExitCode, parse, printJson, type Command } from '../util';

const usage = 'docker-stability doctor [--json] [--workspace DIR...] [--dir LOCKDIR] [--config F] [--host H]';

const MARK: Record<CheckStatus, [string, TextStyle]> = {
  pass: ['PASS', 'green'],
  warn: ['WARN', 'yellow'],
  fail: ['FAIL', 'red'],
};

export const doctorCommand: Command = {
  name: 'doctor',
  summary:
    'Check the whole setup (endpoint, engine, compose, locks, orphans, level); non-zero exit on a failure.',
  usage,
  async run(argv) {
    const { values } = parse(
      argv,
      {
        options: {
          ...dockerOptions,
          json: { type: 'boolean' },
          workspace: { type: 'string', multiple: true },
          dir: { type: 'string' },
          config: { type: 'string' },
        },
      },
      usage,
    );
    const config = loadCliConfig(values.config);
    const checks = await runDoctor({
      client: createClient(values),
      lockDir: values.dir ?? defaultLockDir(),
      workspaceDirs: values.workspace ?? [process.cwd()],
      monitor: monitorSettingsFrom(config),
    });
    const failed = checks.some((c) => c.status === 'fail');
    if (values.json) printJson({ ok: !failed, checks });
    else {
      const color = useColor();
      for (const c of checks) {
        const [label, style] = MARK[c.status];
        const mark = paint(style, label, color);
        // Details quote the daemon (version, OS) and file names: printed stripped.
        process.stdout.write(`${mark}  ${c.name}: ${stripControlChars(c.detail)}\n`);
        if (c.fix && c.status !== 'pass') process.stdout.write(`      fix: ${stripControlChars(c.fix)}\n`);
      }
    }
    return failed ? ExitCode.failure : ExitCode.ok;
  },
};
