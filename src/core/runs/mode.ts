/**
 * Whether a run's compose files let it share the environment: a fixed container name or a fixed
 * host port collides as soon as two runs of the same files go at once, so such a run must be
 * exclusive. Judged by the compose rules themselves, on the files compose would load.
 */
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { DEFAULT_FILE_NAMES, loadedFiles, readDotEnv } from '../compose/files';
import { readComposeFile, readComposeText } from '../compose/read';
import { checkCompose } from '../compose/rules';

/** One thing that makes the files unfit to share. */
export interface ModeCause {
  file: string;
  /** Absent when the file as a whole is the cause (unreadable, malformed). */
  service?: string;
  what: string;
}

export interface ModeJudgement {
  /** `shared` means sharing is safe as far as the files tell; `exclusive` that it is not. */
  mode: 'exclusive' | 'shared';
  /** One line, naming the first cause (and how many more), or why sharing is safe. */
  reason: string;
  /** The files judged, in compose's merge order. */
  files: string[];
  causes: ModeCause[];
}

const COLLIDING_RULES = new Set(['fixed-container-name', 'fixed-host-port']);
// Compose refuses such files, so nothing can be said about what they would create.
const MALFORMED_RULES = new Set([
  'yaml-syntax',
  'compose-structure',
  'interpolation-syntax',
  'multi-document',
]);

/**
 * The files compose would load when started in `dir` without `-f`: `COMPOSE_FILE` (the
 * environment, then the folder's `.env`), else the first default-named file and its override.
 */
export function composeFilesFor(dir: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const folder = resolve(dir);
  const dotEnvText = readComposeText(join(folder, '.env'), 1024 * 1024);
  const dotEnv =
    dotEnvText === undefined ? {} : readDotEnv(dotEnvText, ['COMPOSE_FILE', 'COMPOSE_PATH_SEPARATOR']);
  const list = env.COMPOSE_FILE || dotEnv.COMPOSE_FILE;
  if (list) {
    const sep =
      env.COMPOSE_PATH_SEPARATOR ||
      dotEnv.COMPOSE_PATH_SEPARATOR ||
      (process.platform === 'win32' ? ';' : ':');
    const first = list.split(sep).find((f) => f !== '');
    if (first !== undefined) return loadedFiles(resolve(folder, first), env).files;
  }
  const found = DEFAULT_FILE_NAMES.map((n) => join(folder, n)).find((p) => existsSync(p));
  return found === undefined ? [] : loadedFiles(found, env).files;
}

/**
 * Substitutes `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?err}` and `$VAR` as compose
 * would with `env`, so that `${PORT:-8080}:80` is judged as the `8080:80` it becomes; `$$` stays
 * a literal dollar.
 */
export function interpolate(text: string, env: NodeJS.ProcessEnv): string {
  return text.replace(
    /\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g,
    (
      whole,
      braced: string | undefined,
      op: string | undefined,
      arg: string | undefined,
      bare: string | undefined,
    ) => {
      if (whole === '$$') return whole;
      const value = env[(braced ?? bare) as string];
      const unsetOrEmpty = op?.startsWith(':') ? !value : value === undefined;
      switch (op?.replace(':', '')) {
        case '-':
          return unsetOrEmpty ? (arg ?? '') : (value as string);
        case '+':
          return unsetOrEmpty ? '' : (arg ?? '');
        default:
          return value ?? '';
      }
    },
  );
}

/** Judges the given files (absolute paths, compose's merge order). Never throws. */
export function judgeComposeFiles(
  files: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): ModeJudgement {
  const causes: ModeCause[] = [];
  for (const file of files) {
    const read = readComposeFile(file);
    if (!('text' in read)) {
      causes.push({ file, what: `cannot be read (${read.error})` });
      continue;
    }
    const findings = checkCompose(interpolate(read.text, env), file, {
      fileKind: 'test',
      readFile: (p) => {
        const t = readComposeText(p);
        return t === undefined ? undefined : interpolate(t, env);
      },
    });
    const malformed = findings.find((f) => f.severity === 'error' && MALFORMED_RULES.has(f.rule));
    if (malformed) {
      causes.push({
        file,
        what: `is not a valid compose file (line ${malformed.line}: ${malformed.message})`,
      });
      continue;
    }
    for (const f of findings.filter((x) => COLLIDING_RULES.has(x.rule)))
      // The rule's message goes on to advise; the cause is its first clause.
      causes.push({ file, service: f.service, what: (f.message.split(':')[0] as string).trim() });
  }
  const first = causes[0];
  if (!first)
    return {
      mode: 'shared',
      reason:
        files.length === 0
          ? 'no compose file found: nothing fixed to collide on'
          : `no fixed container name or host port in ${files.map((f) => basename(f)).join(', ')}`,
      files: [...files],
      causes,
    };
  const more = causes.length > 1 ? ` (and ${causes.length - 1} more)` : '';
  const where =
    first.service !== undefined
      ? `service "${first.service}" in ${basename(first.file)}`
      : basename(first.file);
  const why =
    first.service !== undefined ? 'two runs at once would collide' : 'what the run creates cannot be judged';
  return {
    mode: 'exclusive',
    reason: `${where}: ${first.what}${more}; ${why}`,
    files: [...files],
    causes,
  };
}

/** Judges the compose files a run started in `dir` would use. Never throws. */
export function judgeRunMode(dir: string, env: NodeJS.ProcessEnv = process.env): ModeJudgement {
  return judgeComposeFiles(composeFilesFor(dir, env), { ...dotEnvOf(dir), ...env });
}

/** Every variable of the folder's `.env`: compose interpolates with them where the environment has none. */
function dotEnvOf(dir: string): Record<string, string> {
  const text = readComposeText(join(resolve(dir), '.env'), 1024 * 1024);
  if (text === undefined) return {};
  const keys = [...text.matchAll(/^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/gm)].map(
    (m) => m[1] as string,
  );
  return readDotEnv(text, keys);
}
