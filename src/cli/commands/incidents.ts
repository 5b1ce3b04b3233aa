import { incidentsSince, INCIDENT_TITLES, type Incident } from '../../core/incidents/types';
import { stderrLogger } from '../../core/log';
import { incidentsFileFor, openIncidentLog } from '../../core/monitor/monitor';
import { ownerLabel } from '../../core/monitor/owners';
import { formatDuration } from '../../core/util/duration';
import { stripControlChars } from '../../core/util/terminalText';
import { endpointHistoryFile, recordOptions } from '../options';
import { parse, parseDurationOption, printJson, ExitCode, type Command } from '../util';

const usage = 'docker-stability incidents [--json] [--since DURATION] [--file F] [--host H]';

/** One line per incident; names, labels and reasons come from the daemon: printed stripped. */
export function incidentLine(i: Incident): string {
  const parts = [i.at, INCIDENT_TITLES[i.kind].padEnd(18)];
  if (i.container) parts.push(`${i.container.name} (${ownerLabel(i.container.owner)})`);
  if (i.kind === 'oom')
    parts.push(i.mainProcessKilled ? 'main process killed' : 'a process was killed for memory');
  if (i.kind === 'restart-loop')
    parts.push(`${i.restarts ?? '?'} restarts in ${formatDuration(i.windowMs ?? 0)}`);
  if (i.kind === 'never-healthy')
    parts.push(
      `still starting after ${formatDuration(i.startingMs ?? 0)} (bound ${formatDuration(i.boundMs ?? 0)})`,
    );
  if (i.kind === 'daemon-restarted')
    parts.push(`started ${i.startedAt ?? '?'} (was ${i.previousStartedAt ?? '?'})`);
  if (i.reason) parts.push(i.reason);
  if (i.downMs !== undefined) parts.push(`after ${formatDuration(i.downMs)}`);
  if (i.figures)
    parts.push(`[${i.figures.level}, memory ${i.figures.memoryPercent}%, cpu ${i.figures.cpuPercent}%]`);
  return stripControlChars(parts.join('  '));
}

export const incidentsCommand: Command = {
  name: 'incidents',
  summary:
    'List what went wrong: OOM kills, restart loops, unhealthy or never healthy containers, daemon outages and restarts (recorded while a monitor watches).',
  usage,
  async run(argv) {
    const { values } = parse(argv, { options: { ...recordOptions, since: { type: 'string' } } }, usage);
    const sinceMs = parseDurationOption(values.since, 'since');
    const file = values.file ?? incidentsFileFor(endpointHistoryFile(values.host));
    const log = openIncidentLog(file, stderrLogger());
    await log.load();
    const all = log.toArray();
    const shown = sinceMs === undefined ? all : incidentsSince(all, Date.now() - sinceMs);
    if (values.json) printJson(shown);
    else if (shown.length === 0)
      process.stdout.write(
        `no incidents${sinceMs === undefined ? '' : ` in the last ${formatDuration(sinceMs)}`} (${stripControlChars(file)})\n`,
      );
    else for (const i of shown) process.stdout.write(incidentLine(i) + '\n');
    return ExitCode.ok;
  },
};
