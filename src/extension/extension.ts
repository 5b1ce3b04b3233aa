// The extension's entry point (dist/extension.js), kept to a few hundred bytes so that what
// VS Code counts as activation (loading this file plus the synchronous activate call) stays
// far under 50 ms. activate() returns at once with a promise; one turn of the event loop
// later it loads dist/extension-main.js (the core, dockerode, the dashboard and the commands,
// see main.ts) and resolves with the API once everything is wired. VS Code waits for that
// promise before it runs a command or restores a dashboard of this extension, so nothing can
// reach a half-started extension.
import type * as vscode from 'vscode';
import type * as Main from './main';

export type { DockerStabilityApi } from './main';

let main: typeof Main | undefined;
let stopped = false;

/**
 * How long VS Code took to load this file, by the marks it sets around the require
 * (`code/extHost/willLoadExtensionCode/<id>` and `didLoad...`). The marks are VS Code's internals
 * and only go into the log, so their absence just leaves the figure out.
 */
function vscodeLoadMs(extensionId: string): number | undefined {
  try {
    const marks =
      (
        globalThis as { MonacoPerformanceMarks?: { getMarks?: () => { name: string; startTime: number }[] } }
      ).MonacoPerformanceMarks?.getMarks?.() ?? [];
    const at = (what: string) =>
      marks.find((m) => m.name === `code/extHost/${what}ExtensionCode/${extensionId}`)?.startTime;
    const will = at('willLoad');
    const did = at('didLoad');
    return will !== undefined && did !== undefined ? did - will : undefined;
  } catch {
    return undefined;
  }
}

export function activate(context: vscode.ExtensionContext): Promise<Main.DockerStabilityApi> {
  const called = performance.now();
  const entryLoadMs = vscodeLoadMs(context.extension.id);
  stopped = false;
  return new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
    // The window closed in the same turn: start nothing that deactivate() would miss.
    if (stopped) throw new Error('Docker Stability was deactivated before it finished activating');
    // A plain require of the sibling bundle: esbuild leaves it external (scripts/build.mjs).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    main = require('./extension-main.js') as typeof Main;
    return main.activate(context, { called, loaded: performance.now(), entryLoadMs });
  });
}

/** Flushes history and releases this window's locks (VS Code waits for the promise). */
export async function deactivate(): Promise<void> {
  stopped = true;
  await main?.deactivate();
  main = undefined;
}
