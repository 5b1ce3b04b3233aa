import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The per-user folder where docker-stability keeps its state (history, run records, locks):
 * `DOCKER_STABILITY_HOME` if set, else the platform's conventional place.
 */
export function stateDir(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  if (env.DOCKER_STABILITY_HOME) return env.DOCKER_STABILITY_HOME;
  const home = env.HOME || env.USERPROFILE || homedir();
  if (platform === 'win32')
    return join(env.LOCALAPPDATA || join(home, 'AppData', 'Local'), 'docker-stability');
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'docker-stability');
  return join(env.XDG_STATE_HOME || join(home, '.local', 'state'), 'docker-stability');
}

/** Default lock folder: `DOCKER_STABILITY_LOCK_DIR`, else `<stateDir>/locks`. */
export function defaultLockDir(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  return env.DOCKER_STABILITY_LOCK_DIR || join(stateDir(env, platform), 'locks');
}

/** A short stable id for an endpoint address, used in file names. */
export function endpointId(host: string): string {
  return createHash('sha256').update(host).digest('hex').slice(0, 12);
}

/** Where the sample history of one endpoint is persisted: `<stateDir>/history/<endpointId>.jsonl`. */
export function defaultHistoryFile(host: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(stateDir(env), 'history', `${endpointId(host)}.jsonl`);
}
