import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The per-user folder where docker-stability keeps its state (history, run records, locks):
 * `DOCKER_STABILITY_HOME` if set, else the platform's conventional place.
 */
export function stateDir(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  if (env.DOCKER_STABILITY_HOME) return env.DOCKER_STABILITY_HOME;
  const home = env.HOME || env.USERPROFILE || homedir();
  if (platform === 'win32') return join(env.LOCALAPPDATA || join(home, 'AppData', 'Local'), 'docker-stability');
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'docker-stability');
  return join(env.XDG_STATE_HOME || join(home, '.local', 'state'), 'docker-stability');
}

/** Default lock folder: `DOCKER_STABILITY_LOCK_DIR`, else `<stateDir>/locks`. */
export function defaultLockDir(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  return env.DOCKER_STABILITY_LOCK_DIR || join(stateDir(env, platform), 'locks');
}
