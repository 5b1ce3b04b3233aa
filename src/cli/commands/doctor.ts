import { runDoctor, type CheckStatus, type DoctorRemedy } from '../../core/doctor';
import { defaultLockDir } from '../../core/paths';
import { stripControlChars } from '../../core/util/terminalText';
import { monitorSettingsFrom } from '../config';
import { paint, useColor, type TextStyle } from '../style';
import { createClient, ExitCode, printJson, type Command } from '../util';
import { parseCommand } from '../options';

const usage = 'docker-stability doctor [--json] [--workspace DIR...] [--dir LOCKDIR] [--config F] [--host H]';

const MARK: Record<CheckStatus, [string, TextStyle]> = {
  pass: ['PASS', 'green'],
  warn: ['WARN', 'yellow'],
  fail: ['FAIL', 'red'],
};

/** A shell word as typed: bare when it is plain, single-quoted otherwise. */
function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The doctor's remedy in the CLI's words: the command line to run (or what to do, where no command does it). */
export function remedyLine(r: DoctorRemedy): string {
  switch (r.action) {
    case 'start-daemon':
      return `start the Docker engine at ${r.params.endpoint}, or point DOCKER_HOST / the docker context / --host at the right one`;
    case 'upgrade-engine':
      return `upgrade the engine to one with API ${r.params.minimumApiVersion} or newer (Docker 20.10)`;
    case 'install-compose':
      return 'install the Docker Compose plugin (or docker-compose) to validate and apply compose configs';
    case 'fix-compose': {
      const f = shellWord(r.params.file);
      return `docker-stability compose check ${f}; docker-stability compose apply ${f}`;
    }
    case 'force-release-lock':
      return `docker-stability lock force-release --name ${shellWord(r.params.lock)}${r.params.staleOnly ? ' --stale-only' : ''} (the next acquirer also takes it over)`;
    case 'set-setting':
      return 'export DOCKER_STABILITY_LOCK_DIR=<a writable folder> (or pass --dir)';
    case 'clean-up':
      return r.params.dryRunFirst
        ? 'docker-stability cleanup --dry-run, then docker-stability cleanup'
        : 'docker-stability cleanup';
    case 'reduce-load':
      return 'docker-stability cleanup; stop what you do not need (docker-stability status lists the heaviest)';
  }
}

export const doctorCommand: Command = {
  name: 'doctor',
  summary:
    'Check the whole setup (endpoint, engine, compose, locks, orphans, level); non-zero exit on a failure.',
  usage,
  async run(argv) {
    const { values, config } = parseCommand(argv, usage, {
      workspace: { type: 'string', multiple: true },
      dir: { type: 'string' },
    });
    const checks = await runDoctor({
      client: createClient(values),
      lockDir: values.dir ?? defaultLockDir(),
      workspaceDirs: values.workspace ?? [process.cwd()],
      monitor: monitorSettingsFrom(config),
    });
    const failed = checks.some((c) => c.status === 'fail');
    if (values.json)
      printJson({
        ok: !failed,
        checks: checks.map((c) => (c.remedy ? { ...c, fix: remedyLine(c.remedy) } : c)),
      });
    else {
      const color = useColor();
      for (const c of checks) {
        const [label, style] = MARK[c.status];
        const mark = paint(style, label, color);
        // Details quote the daemon (version, OS) and file names: printed stripped.
        process.stdout.write(`${mark}  ${c.name}: ${stripControlChars(c.detail)}\n`);
        if (c.remedy && c.status !== 'pass')
          process.stdout.write(`      fix: ${stripControlChars(remedyLine(c.remedy))}\n`);
      }
    }
    return failed ? ExitCode.failure : ExitCode.ok;
  },
};
