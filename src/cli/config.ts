import { readFileSync } from 'node:fs';
import { validateMonitorSettings, type MonitorSettings } from '../core/monitor/settings';
import { CliError, ExitCode } from './util';

/**
 * The CLI's settings file (`--config F`, else `$DOCKER_STABILITY_CONFIG`): JSON with one object
 * per capability, e.g. `{ "monitor": { "thresholds": { "warning": 40 } } }`. Keys mirror the
 * VS Code settings. A missing or malformed file is a clear error; bad values are warned about
 * by name and replaced by defaults.
 */
export interface CliConfig {
  monitor?: unknown;
  [section: string]: unknown;
}

export function loadCliConfig(path: string | undefined = process.env.DOCKER_STABILITY_CONFIG): CliConfig {
  if (!path) return {};
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read config ${path}: ${(err as Error).message}`, ExitCode.usage);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new CliError(`config ${path} is not valid JSON: ${(err as Error).message}`, ExitCode.usage);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CliError(`config ${path} must be a JSON object`, ExitCode.usage);
  }
  return value as CliConfig;
}

export function monitorSettingsFrom(config: CliConfig): MonitorSettings {
  const { settings, problems } = validateMonitorSettings(config.monitor ?? {});
  for (const p of problems) process.stderr.write(`docker-stability: warning: monitor.${p}\n`);
  return settings;
}
