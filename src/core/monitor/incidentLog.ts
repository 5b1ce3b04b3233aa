import { isIncident, type Incident } from '../incidents/types';
import type { Logger } from '../log';
import { BoundedLog } from './history';

/** Incidents kept (in memory and in the file): rare events, so months of them on a test host. */
export const INCIDENT_LOG_SIZE = 500;

/** The bounded incident log, read from and appended to `file` when given. */
export function openIncidentLog(file: string | undefined, logger?: Logger): BoundedLog<Incident> {
  return new BoundedLog(INCIDENT_LOG_SIZE, { file, logger, what: 'incidents', isValid: isIncident });
}

/** The incidents file that goes with a history file: `<endpoint>.jsonl` -> `<endpoint>.incidents.jsonl`. */
export function incidentsFileFor(historyFile: string): string {
  return historyFile.replace(/\.jsonl$/, '') + '.incidents.jsonl';
}
