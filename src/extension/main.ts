// Wires the extension together: settings, the core services, status bar, dashboard, commands
// and compose diagnostics. Everything else lives in its own module. Built as its own bundle
// (dist/extension-main.js) and loaded by the small entry point (extension.ts) right after
// VS Code's activate call has returned.
import * as vscode from 'vscode';
import type { CleanupReport } from '../core/cleanup';
import type { Finding } from '../core/compose';
import { errorMessage, type CommandContext } from './commands/context';
import { registerCommands } from './commands';
import { CommandId } from './commandIds';
import { cleanUpNow, type CleanUpArgs } from './commands/cleanup';
import {
  forceReleaseFromDashboard,
  forceReleaseLocks,
  type ForceReleaseArgs,
  type ForceReleaseResult,
} from './commands/locks';
import { ComposeDiagnostics } from './composeDiagnostics';
import { configProblems, onConfigChange, readConfig } from './config';
import { Dashboard } from './dashboard';
import { channelLogger } from './log';
import { DashboardModel } from './model';
import { dashboardSettings } from './serviceOptions';
import { Services } from './services';
import type { ExtensionConfig } from './settings';
import { composeProjectName, OomNotifier } from './oomNotifier';
import { StatusBar } from './statusBar';
import type { StatusView } from './statusText';

/** What activate() returns: a small surface for integration tests and other extensions. */
export interface DockerStabilityApi {
  services: Services;
  model: DashboardModel;
  config(): ExtensionConfig;
  /** What the last settings read found wrong, one line per setting. */
  configProblems(): string[];
  statusBar(): StatusView;
  dashboard: Dashboard;
  /** OOM-kill notifications: what was shown. */
  oomNotifier: OomNotifier;
  /** Compose findings last published for a document. */
  findings(uri: vscode.Uri): Finding[];
  /** Checks a document now (instead of waiting for the edit debounce). */
  checkCompose(doc: vscode.TextDocument): Promise<Finding[]>;
  /**
   * Only when the extension runs in an extension test host: the destructive commands without
   * their dialogs (`confirm: false`), which `executeCommand` callers are refused.
   */
  unattended?: {
    cleanUpNow(args: CleanUpArgs): Promise<CleanupReport | undefined>;
    forceReleaseLocks(args: ForceReleaseArgs): Promise<ForceReleaseResult[] | undefined>;
  };
}

let services: Services | undefined;

/** When VS Code called the entry point's activate and when this bundle was loaded (performance.now()). */
export interface Timing {
  called: number;
  loaded: number;
  /** VS Code's require of the entry point, by its own marks, when it sets them. */
  entryLoadMs?: number;
}

export function activate(context: vscode.ExtensionContext, timing?: Timing): DockerStabilityApi {
  const started = performance.now();
  const log = vscode.window.createOutputChannel('Docker Stability', { log: true });
  const logger = channelLogger(log);
  const config = readConfig(log);
  const model = new DashboardModel(dashboardSettings(config), vscode.workspace.isTrusted, (err) =>
    log.error(`view update failed: ${errorMessage(err)}`),
  );
  const svc = new Services(config, model, logger, () => vscode.workspace.isTrusted);
  services = svc;
  const oomNotifier = new OomNotifier({
    enabled: () => svc.config.notifications.oomKills,
    workspaceProjects: () => (vscode.workspace.workspaceFolders ?? []).map((f) => composeProjectName(f.name)),
    show: (message) => {
      log.warn(`notification: ${message}`);
      void vscode.window
        .showWarningMessage(message, 'Open Dashboard')
        .then((pick) => pick && vscode.commands.executeCommand(CommandId.openDashboard));
    },
    suppressed: (message) => log.info(`notification rate limit: not shown: ${message}`),
  });
  const stopNotifier = svc.monitoring.onIncidents((i) => oomNotifier.consider(i));
  svc.start();
  const statusBar = new StatusBar();
  const render = (): void =>
    statusBar.update({
      state: model.state,
      sample: model.latest,
      locks: model.locks,
      following: model.following,
      agent: model.agent,
      incidents: model.incidents,
      forecasts: model.forecasts,
    });
  const stopRender = model.onMessage(render);
  render();

  const ctx: CommandContext = {
    services: svc,
    model,
    log,
    logger,
    extensionUri: context.extensionUri,
    dashboard: undefined as unknown as Dashboard,
  };
  ctx.dashboard = new Dashboard(
    context.extensionUri,
    model,
    {
      forceRelease: (name) => forceReleaseFromDashboard(ctx, name),
      sampleNow: async () => void (await svc.monitor?.sampleNow()),
      openChanged: (open) => svc.setOrphanCounting(open),
    },
    log,
  );
  const diagnostics = new ComposeDiagnostics(config.compose, log);

  context.subscriptions.push(
    log,
    statusBar,
    ctx.dashboard,
    diagnostics,
    ...registerCommands(ctx),
    onConfigChange(log, (next) => {
      svc
        .applyConfig(next)
        .catch((err: unknown) => log.error(`applying settings failed: ${errorMessage(err)}`));
      diagnostics.configure(next.compose);
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => {
      model.setTrusted(true);
      // Starts the automatic and scheduled cleanups the settings ask for.
      svc
        .applyConfig(svc.config)
        .catch((err: unknown) => log.error(`applying settings failed: ${errorMessage(err)}`));
    }),
    { dispose: stopRender },
    { dispose: stopNotifier },
  );
  const ready = performance.now();
  const loading = timing
    ? `; ready ${Math.round(ready - timing.called)} ms after activate was called (bundle loaded in ${Math.round(timing.loaded - timing.called)} ms)` +
      (timing.entryLoadMs !== undefined ? `; VS Code loaded the entry point in ${timing.entryLoadMs} ms` : '')
    : '';
  log.info(
    `activated in ${Math.round(ready - started)} ms${loading}; watching ${svc.client?.endpoint.host ?? '(no endpoint)'}; locks in ${svc.locks.dir}${vscode.workspace.isTrusted ? '' : ' (Restricted Mode: read-only)'}`,
  );

  return {
    services: svc,
    model,
    config: () => svc.config,
    configProblems,
    statusBar: () => statusBar.view,
    dashboard: ctx.dashboard,
    oomNotifier,
    findings: (uri) => diagnostics.findings(uri),
    checkCompose: (doc) => diagnostics.run(doc),
    ...(context.extensionMode === vscode.ExtensionMode.Test
      ? {
          unattended: {
            cleanUpNow: (args: CleanUpArgs) => cleanUpNow(ctx, args, 'testApi'),
            forceReleaseLocks: (args: ForceReleaseArgs) => forceReleaseLocks(ctx, args, 'testApi'),
          },
        }
      : {}),
  };
}

/** Flushes history and releases this window's locks (VS Code waits for the promise). */
export async function deactivate(): Promise<void> {
  await services?.dispose();
  services = undefined;
}
