// The environment a run gives its command: its id, the variables it exports, the command it records.
import { randomBytes } from 'node:crypto';
import { basename } from 'node:path';
import { Labels } from '../labels';

export function newRunId(): string {
  return `${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
}

/**
 * The variables a run exports. A COMPOSE_PROJECT_NAME the caller set is kept. With the run's own
 * endpoint (`dockerHost`), DOCKER_HOST points at it, and a docker context or TLS settings that
 * would make clients look elsewhere are cleared (empty means unset to the docker CLI, compose
 * and docker-modem).
 */
export function runEnvironment(
  runId: string,
  category: string,
  envName: string,
  base: NodeJS.ProcessEnv = process.env,
  dockerHost?: string,
): Record<string, string> {
  return {
    ...(dockerHost
      ? { DOCKER_HOST: dockerHost, DOCKER_CONTEXT: '', DOCKER_TLS_VERIFY: '', DOCKER_CERT_PATH: '' }
      : {}),
    DOCKER_STABILITY_RUN_ID: runId,
    DOCKER_STABILITY_CATEGORY: category,
    DOCKER_STABILITY_ENV: envName,
    DOCKER_STABILITY_RUN_LABEL: `${Labels.runId}=${runId}`,
    // Unique per run (category plus run id), so two shared runs of one compose file do not collide.
    COMPOSE_PROJECT_NAME: base.COMPOSE_PROJECT_NAME || `dstab-${composeSlug(category)}-${runId}`,
  };
}

/** A category as compose accepts it in a project name: lowercase letters, digits, `-` and `_`. */
function composeSlug(category: string): string {
  return (
    category
      .toLowerCase()
      .replace(/[^a-z0-9_-]+/g, '-')
      .replace(/^[-_]+|[-_]+$/g, '')
      .slice(0, 40) || 'run'
  );
}

/** The name a run record keeps of a command unless the whole argv was asked for. */
export function recordedCommand(command: string[], recordArgv = false): string[] {
  if (recordArgv) return [...command];
  return command.length ? [basename(command[0] as string)] : [];
}
