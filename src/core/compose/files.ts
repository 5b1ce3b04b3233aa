/**
 * Which files compose loads for a project, so that adding `-f override` keeps them: with an
 * explicit `-f`, compose stops reading `docker-compose.override.yml` and `COMPOSE_FILE` (docker/compose
 * v1 `get_config_path_from_options`, compose-go `GetConfigPathsFromOptions`), and the user's
 * ports, environment and volumes would silently vanish.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { readComposeText } from './read';

/** The names compose finds by itself in a folder. */
export const DEFAULT_FILE_NAMES = [
  'compose.yaml',
  'compose.yml',
  'docker-compose.yml',
  'docker-compose.yaml',
];
/** Loaded next to a default-named file; compose refuses a folder that has two of them. */
export const DEFAULT_OVERRIDE_NAMES = [
  'compose.override.yaml',
  'compose.override.yml',
  'docker-compose.override.yml',
  'docker-compose.override.yaml',
];

export interface LoadedFiles {
  /** Absolute paths in the order compose merges them; the file itself is among them. */
  files: string[];
  /** From COMPOSE_PROFILES (environment first, then the project's `.env`). */
  profiles: string[];
  /** Where the list came from. */
  source: 'COMPOSE_FILE' | 'default' | 'file';
}

/** `KEY=VALUE` lines of a `.env` file (optional `export `, quotes, comments), only the keys asked for. */
export function readDotEnv(text: string, keys: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(raw);
    if (!m || !keys.includes(m[1] as string)) continue;
    let value = m[2] as string;
    const q = /^(["'])(.*)\1$/.exec(value);
    if (q) value = q[2] as string;
    else value = value.replace(/\s+#.*$/, '');
    out[m[1] as string] = value;
  }
  return out;
}

const ENV_KEYS = ['COMPOSE_FILE', 'COMPOSE_PATH_SEPARATOR', 'COMPOSE_PROFILES'];

/**
 * The files compose would load for `file`'s project when run in its folder: `COMPOSE_FILE` (split
 * on `COMPOSE_PATH_SEPARATOR`, relative to the folder) when it names this file; else the file and,
 * for a default-named file, the override file beside it; else the file alone. The environment
 * wins over the folder's `.env`, as in compose.
 */
export function loadedFiles(
  file: string,
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): LoadedFiles {
  const abs = resolve(file);
  const dir = dirname(abs);
  const dotEnvText = readComposeText(join(dir, '.env'), 1024 * 1024);
  const dotEnv = dotEnvText === undefined ? {} : readDotEnv(dotEnvText, ENV_KEYS);
  const get = (k: string): string | undefined => (env[k] !== undefined && env[k] !== '' ? env[k] : dotEnv[k]);
  const profiles = (get('COMPOSE_PROFILES') ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  const list = get('COMPOSE_FILE');
  if (list) {
    const sep = get('COMPOSE_PATH_SEPARATOR') || (platform === 'win32' ? ';' : ':');
    const files = list
      .split(sep)
      .filter((f) => f !== '')
      .map((f) => resolve(dir, f));
    if (files.includes(abs)) return { files, profiles, source: 'COMPOSE_FILE' };
  }
  if (DEFAULT_FILE_NAMES.includes(basename(abs))) {
    const override = DEFAULT_OVERRIDE_NAMES.map((n) => join(dir, n)).find((p) => existsSync(p));
    if (override) return { files: [abs, override], profiles, source: 'default' };
  }
  return { files: [abs], profiles, source: 'file' };
}
