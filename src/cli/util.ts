import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DockerClient, DockerUnreachableError } from '../core/docker/client';
import { resolveEndpoint } from '../core/docker/endpoint';
import { parseDuration } from '../core/util/duration';
import { stripControlChars } from '../core/util/terminalText';
import { errorMessage } from '../shared/errors';

export { useColor } from './style';

/** Exit codes shared by every command. */
export const ExitCode = {
  ok: 0,
  failure: 1,
  unreachable: 2,
  lockTimeout: 3,
  refused: 4,
  /** `lock run`: the lock was lost while the command ran (forced, or taken over after a stall), so the run was not exclusive; the command was stopped. */
  lockLost: 5,
  usage: 64,
} as const;

/** An error the CLI prints as one line and exits with. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = ExitCode.failure,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  run(argv: string[]): Promise<number>;
}

/** Options every Docker-facing command accepts. */
export const dockerOptions = {
  host: { type: 'string' },
  'call-timeout': { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

/** parseArgs with usage errors turned into CliError(usage). */
export function parse<T extends ParseArgsConfig>(
  argv: string[],
  config: T,
  usage: string,
): ReturnType<typeof parseArgs<T & { args: string[]; strict: true }>> {
  try {
    return parseArgs({ ...config, args: argv, strict: true });
  } catch (err) {
    throw new CliError(`${errorMessage(err)}\nusage: ${usage}`, ExitCode.usage);
  }
}

export function parseNumber(
  value: string | undefined,
  name: string,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max)
    throw new CliError(`--${name} must be a number from ${min} to ${max} (got "${value}")`, ExitCode.usage);
  return n;
}

/** A duration option (`30`, `30s`, `5m`, `1h30m`) in ms, or undefined when absent; bad input is a usage error. */
export function parseDurationOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  try {
    return parseDuration(value);
  } catch (err) {
    throw new CliError(`--${name}: ${errorMessage(err)}`, ExitCode.usage);
  }
}

export function createClient(values: { host?: string; 'call-timeout'?: string }): DockerClient {
  const endpoint = resolveEndpoint({ override: values.host });
  const timeoutMs = parseNumber(values['call-timeout'], 'call-timeout', 100, 600_000);
  return new DockerClient(endpoint, { timeoutMs });
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/**
 * A `docker-stability: ...` line for stderr. Messages carry names and text from outside (the
 * daemon's errors, resource and file names, config values): their control characters go, so
 * none can move the cursor, retitle the terminal or forge a line.
 */
export function messageLine(message: string): string {
  return `docker-stability: ${stripControlChars(message)}\n`;
}

/** Maps any error to one line on stderr and an exit code. */
export function reportError(err: unknown): number {
  if (err instanceof CliError) {
    process.stderr.write(messageLine(err.message));
    return err.exitCode;
  }
  if (err instanceof DockerUnreachableError) {
    process.stderr.write(messageLine(err.message));
    return ExitCode.unreachable;
  }
  process.stderr.write(messageLine((err as Error)?.message ?? String(err)));
  return ExitCode.failure;
}
