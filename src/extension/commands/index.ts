import * as vscode from 'vscode';
import { CommandId, type CommandIdValue } from '../commandIds';
import { cleanUpNow } from './cleanup';
import { applyBaseCompose, PreviewContent } from './compose';
import { errorMessage, type CommandContext } from './context';
import { runDoctorCommand } from './doctor';
import { acquireLock, forceReleaseLocks, releaseLock } from './locks';
import { stripControlChars } from '../../core/util/terminalText';

/**
 * Registers every command. Each accepts an optional argument object so tests and other
 * extensions can run it without dialogs; from the palette it asks and confirms. Errors become
 * one error notification (and a log line) and the handler's promise resolves undefined.
 */
export function registerCommands(ctx: CommandContext): vscode.Disposable[] {
  const preview = new PreviewContent();
  const handlers: Record<CommandIdValue, (arg?: unknown) => unknown> = {
    [CommandId.openDashboard]: () => ctx.dashboard.open(),
    [CommandId.cleanUpNow]: (arg) => cleanUpNow(ctx, arg),
    [CommandId.forceReleaseLocks]: (arg) => forceReleaseLocks(ctx, arg),
    [CommandId.applyBaseCompose]: (arg) => applyBaseCompose(ctx, preview, arg),
    [CommandId.acquireLock]: (arg) => acquireLock(ctx, arg),
    [CommandId.releaseLock]: (arg) => releaseLock(ctx, arg),
    [CommandId.pauseMonitoring]: async () => {
      ctx.services.pause();
      await vscode.commands.executeCommand('setContext', 'dockerStability.paused', true);
    },
    [CommandId.resumeMonitoring]: async () => {
      ctx.services.resume();
      await vscode.commands.executeCommand('setContext', 'dockerStability.paused', false);
    },
    [CommandId.showLog]: () => ctx.log.show(),
    [CommandId.runDoctor]: (arg) => runDoctorCommand(ctx, arg),
  };
  return [
    preview,
    ...Object.entries(handlers).map(([id, fn]) =>
      vscode.commands.registerCommand(id, async (arg?: unknown) => {
        try {
          return await fn(arg);
        } catch (err) {
          // Errors quote the daemon and file names: shown stripped of control characters.
          const message = stripControlChars(errorMessage(err));
          ctx.log.error(`${id}: ${message}`);
          void vscode.window.showErrorMessage(`Docker Stability: ${message}`);
          // Callers passing arguments (tests, other extensions) want the failure, not a silent undefined.
          if (arg !== undefined && !(arg instanceof vscode.Uri)) throw err;
          return undefined;
        }
      }),
    ),
  ];
}
