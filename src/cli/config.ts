import { readFileSync } from 'node:fs';
import { checkCleanupSection, type CleanupSettingKey, type CleanupSettings } from '../core/options/cleanup';
import { validateMonitorSettings, type MonitorSettings } from '../core/monitor/settings';
import { CliError, ExitCode, messageLine } from './util';
import { errorMessage } from '../shared/errors';

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
    throw new CliError(`cannot read config ${path}: ${errorMessage(err)}`, ExitCode.usage);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new CliError(`config ${path} is not valid JSON: ${errorMessage(err)}`, ExitCode.usage);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CliError(`config ${path} must be a JSON object`, ExitCode.usage);
  }
  return value as CliConfig;
}

export function monitorSettingsFrom(config: CliConfig): MonitorSettings {
  const { settings, problems } = validateMonitorSettings(config.monitor ?? {});
  for (const p of problems) process.stderr.write(messageLine(`warning: monitor.${p}`));
  return settings;
}

/**
 * A cleanup section of the config file (`cleanup`, and `runs.cleanup` without includeImages),
 * checked by the core's cleanup fields. Cleanup removes things, so a bad or unknown key is a
 * usage error (exit 64) rather than a warning: nothing runs on a half-read config.
 */
export function cleanupSettingsFrom(
  section: unknown,
  where: string,
  allowed?: readonly CleanupSettingKey[],
): CleanupSettings {
  const { values, problems } = checkCleanupSection(section, where, allowed);
  if (problems[0] !== undefined) throw new CliError(`config ${problems[0]}`, ExitCode.usage);
  return values;
}
