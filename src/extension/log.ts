import type * as vscode from 'vscode';
import type { Logger } from '../core/log';

/** Maps the core's Logger onto the extension's LogOutputChannel (the user picks the level there). */
export function channelLogger(channel: vscode.LogOutputChannel, prefix = ''): Logger {
  const p = prefix ? `${prefix}: ` : '';
  return {
    debug: (m) => channel.debug(p + m),
    info: (m) => channel.info(p + m),
    warn: (m) => channel.warn(p + m),
    error: (m) => channel.error(p + m),
  };
}
