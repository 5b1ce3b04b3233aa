import * as vscode from 'vscode';
import type { Logger } from '../../core/log';
import type { Dashboard } from '../dashboard';
import type { DashboardModel } from '../model';
import type { Services } from '../services';

/** What command handlers use; built once in activate(). */
export interface CommandContext {
  services: Services;
  model: DashboardModel;
  dashboard: Dashboard;
  log: vscode.LogOutputChannel;
  /** The log channel as the core's Logger. */
  logger: Logger;
  extensionUri: vscode.Uri;
}

/** Thrown for an action the user declined: handlers return quietly instead of reporting an error. */
export class Cancelled extends Error {
  constructor() {
    super('cancelled');
  }
}

/**
 * Destructive commands refuse to run in an untrusted workspace (the workspace's settings could
 * point them at a lock folder or label of its choosing). Checked in code too, because
 * `enablement` does not stop `executeCommand`.
 */
export function requireTrust(what: string): void {
  if (!vscode.workspace.isTrusted) {
    throw new Error(`${what} is disabled in Restricted Mode: trust this workspace to use it.`);
  }
}

/**
 * Who runs a destructive command: `command` is anyone with `executeCommand` (the palette, a
 * keybinding, another extension, a task a cloned repository defines), `testApi` the extension's
 * API in an extension test host.
 */
export type Caller = 'command' | 'testApi';

/**
 * `{ confirm: false }` skips the review and the confirmation. Only the test API may ask for that:
 * any other caller would remove Docker resources or take locks without the user seeing it.
 */
export function refuseUnconfirmed(command: string, confirmArg: unknown, caller: Caller): void {
  if (confirmArg === false && caller !== 'testApi') {
    throw new Error(
      `${command}: confirm: false is accepted only from the extension's test API; leave it out to review and confirm`,
    );
  }
}

/** A modal yes/no; resolves false when dismissed. */
export async function confirm(message: string, detail: string, yes: string): Promise<boolean> {
  const choice = await vscode.window.showWarningMessage(message, { modal: true, detail }, yes);
  return choice === yes;
}

export { errorMessage } from '../../shared/errors';
