import type { ParseArgsConfig } from 'node:util';
import { resolveEndpoint } from '../core/docker/endpoint';
import { defaultHistoryFile } from '../core/paths';
import { loadCliConfig, type CliConfig } from './config';
import { dockerOptions, parse } from './util';

type Options = NonNullable<ParseArgsConfig['options']>;

/** What every command that talks to the daemon accepts besides its own options. */
export const commonOptions = {
  ...dockerOptions,
  json: { type: 'boolean' },
  config: { type: 'string' },
} as const satisfies Options;

/**
 * The block that opens a command talking to the daemon: the shared options (--host,
 * --call-timeout, --json, --config) with its own, parsed strictly (a usage error quotes the
 * usage line), and the settings file loaded (--config, else $DOCKER_STABILITY_CONFIG).
 */
export function parseCommand<const O extends Options>(
  argv: string[],
  usage: string,
  own: O,
  allowPositionals = false,
): ReturnType<typeof parse<{ options: typeof commonOptions & O; allowPositionals: boolean }>> & {
  config: CliConfig;
} {
  const parsed = parse(argv, { options: { ...commonOptions, ...own }, allowPositionals }, usage);
  // the values' type is generic here; `config` is one of commonOptions, a string when given
  return { ...parsed, config: loadCliConfig((parsed.values as { config?: string }).config) };
}

/** What the commands reading a recorded file accept: --json, --file F, --host H (whose file is read). */
export const recordOptions = {
  json: { type: 'boolean' },
  file: { type: 'string' },
  host: { type: 'string' },
} as const satisfies Options;

/** The history file of the endpoint `--host` names (else the one the docker CLI would use). */
export function endpointHistoryFile(host: string | undefined): string {
  return defaultHistoryFile(resolveEndpoint({ override: host }).host);
}
