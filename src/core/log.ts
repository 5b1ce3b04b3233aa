import { stripControlChars } from './util/terminalText';

/** The logging surface the core writes to; the extension maps it to a LogOutputChannel, the CLI to stderr. */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** Discards everything (library default: a library must not print on its own). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * Writes warnings and errors (and, with `verbose`, everything) to stderr, one line each: the
 * messages quote daemons, lock holders and file names, so their control characters go.
 */
export function stderrLogger(verbose = false): Logger {
  const write = (tag: string, m: string): void =>
    void process.stderr.write(`[${tag}] ${stripControlChars(m)}\n`);
  return {
    debug: (m) => verbose && write('debug', m),
    info: (m) => verbose && write('info', m),
    warn: (m) => write('warn', m),
    error: (m) => write('error', m),
  };
}
