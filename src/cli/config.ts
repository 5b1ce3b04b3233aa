import { readFileSync } from 'node:fs';
import type { CleanupOptions } from '../core/cleanup';
import { LABEL_KEY_PATTERN } from '../core/labels';
import { validateMonitorSettings, type MonitorSettings } from '../core/monitor/settings';
import { CliError, ExitCode, messageLine } from './util';

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
  for (const p of problems) process.stderr.write(messageLine(`warning: monitor.${p}`));
  return settings;
}

/** What a config file may set for cleanup (`cleanup`, and `runs.cleanup` without includeImages). */
export type CleanupSettings = Pick<
  CleanupOptions,
  'olderThanMs' | 'includeImages' | 'testProjectPatterns' | 'protectLabel'
>;

/** Each key a cleanup section may set: how its value is checked, and what the error says it must be. */
const CLEANUP_KEYS: Record<keyof CleanupSettings, { ok: (v: unknown) => boolean; expected: string }> = {
  olderThanMs: {
    ok: (v) => typeof v === 'number' && Number.isFinite(v) && v >= 0,
    expected: 'a number of milliseconds >= 0',
  },
  includeImages: { ok: (v) => typeof v === 'boolean', expected: 'true or false' },
  testProjectPatterns: {
    ok: (v) => Array.isArray(v) && v.every((p) => typeof p === 'string' && p.trim() !== ''),
    expected: 'a list of non-empty globs',
  },
  protectLabel: {
    ok: (v) => typeof v === 'string' && LABEL_KEY_PATTERN.test(v),
    expected: 'a Docker label key',
  },
};

/**
 * A cleanup section of the config file, checked key by key. Cleanup removes things, so a bad or
 * unknown key is a usage error (exit 64) rather than a warning: nothing runs on a half-read config.
 */
export function cleanupSettingsFrom(
  section: unknown,
  where: string,
  allowed: (keyof CleanupSettings)[] = Object.keys(CLEANUP_KEYS) as (keyof CleanupSettings)[],
): CleanupSettings {
  if (section === undefined) return {};
  if (typeof section !== 'object' || section === null || Array.isArray(section)) {
    throw new CliError(`config ${where} must be an object (got ${JSON.stringify(section)})`, ExitCode.usage);
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(section)) {
    if (!(allowed as string[]).includes(key)) {
      throw new CliError(
        `config ${where}.${key} is not a setting (use ${allowed.join(', ')})`,
        ExitCode.usage,
      );
    }
    const { ok, expected } = CLEANUP_KEYS[key as keyof CleanupSettings];
    if (!ok(value)) {
      throw new CliError(
        `config ${where}.${key} must be ${expected} (got ${JSON.stringify(value)})`,
        ExitCode.usage,
      );
    }
    out[key] = value;
  }
  return out as CleanupSettings;
}
