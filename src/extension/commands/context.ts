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

/** A modal yes/no; resolves false when dismissed. */
export async function confirm(message: string, detail: string, yes: string): Promise<boolean> {
  const choice = await vscode.window.showWarningMessage(message, { modal: true, detail }, yes);
  return choice === yes;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
