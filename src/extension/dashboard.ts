import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import {
  parseWebviewMessage,
  type HostMessage,
  type RenderedParts,
  type WebviewCommand,
} from '../shared/protocol';
import { CommandId } from './commandIds';
import type { DashboardModel } from './model';
import { errorMessage } from '../shared/errors';

export const DASHBOARD_VIEW_TYPE = 'dockerStability.dashboard';

const COMMANDS: Record<Exclude<WebviewCommand, 'sampleNow'>, string> = {
  cleanUpNow: CommandId.cleanUpNow,
  pauseMonitoring: CommandId.pauseMonitoring,
  resumeMonitoring: CommandId.resumeMonitoring,
  showLog: CommandId.showLog,
};

export interface DashboardActions {
  /** Force-releases a lock after the user confirms (the webview cannot confirm on its own). */
  forceRelease(name: string): Promise<void>;
  sampleNow(): Promise<void>;
  /** The panel opened or closed (the health panel's orphan count runs only while it is open). */
  openChanged(open: boolean): void;
}

/**
 * The dashboard webview host: one panel at a time, restored after a reload by the serializer.
 * On `ready` it posts the full snapshot, then forwards the model's deltas.
 */
export class Dashboard implements vscode.Disposable {
  private panel?: vscode.WebviewPanel;
  private panelDisposables: vscode.Disposable[] = [];
  private readonly disposables: vscode.Disposable[] = [];
  /** What the webview last said it rendered (the test API reads it). */
  rendered = {
    samples: 0,
    latest: undefined as string | undefined,
    messages: 0,
    drawn: undefined as RenderedParts | undefined,
  };
  rejected: string[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly model: DashboardModel,
    private readonly actions: DashboardActions,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.disposables.push(
      vscode.window.registerWebviewPanelSerializer(DASHBOARD_VIEW_TYPE, {
        deserializeWebviewPanel: async (panel) => this.attach(panel),
      }),
    );
    const off = model.onMessage((m) => this.post(m));
    this.disposables.push({ dispose: off });
  }

  get isOpen(): boolean {
    return this.panel !== undefined;
  }

  open(): void {
    if (this.panel) {
      this.panel.reveal();
      return;
    }
    const panel = vscode.window.createWebviewPanel(
      DASHBOARD_VIEW_TYPE,
      'Docker Stability',
      vscode.ViewColumn.Active,
      this.options(),
    );
    this.attach(panel);
  }

  private get root(): vscode.Uri {
    return vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview');
  }

  private options(): vscode.WebviewOptions & vscode.WebviewPanelOptions {
    return { enableScripts: true, localResourceRoots: [this.root] };
  }

  private attach(panel: vscode.WebviewPanel): void {
    this.panel?.dispose();
    this.panel = panel;
    this.rendered = { samples: 0, latest: undefined, messages: 0, drawn: undefined };
    panel.webview.options = this.options();
    panel.webview.html = this.html(panel.webview);
    this.actions.openChanged(true);
    this.panelDisposables = [
      panel.webview.onDidReceiveMessage((raw: unknown) => void this.receive(raw)),
      panel.onDidDispose(() => {
        if (this.panel === panel) {
          this.panel = undefined;
          this.actions.openChanged(false);
        }
        for (const d of this.panelDisposables) d.dispose();
        this.panelDisposables = [];
      }),
    ];
  }

  private post(m: HostMessage): void {
    // A hidden webview drops messages; it says `ready` again when shown and gets a snapshot.
    if (this.panel?.visible) void this.panel.webview.postMessage(m);
  }

  private async receive(raw: unknown): Promise<void> {
    const m = parseWebviewMessage(raw);
    if (typeof m === 'string') {
      this.rejected.push(m);
      this.log.warn(`dashboard: rejected a message from the webview: ${m}`);
      return;
    }
    this.rendered.messages++;
    try {
      switch (m.type) {
        case 'ready':
          this.post({ type: 'snapshot', snapshot: this.model.snapshot() });
          break;
        case 'rendered':
          this.rendered = { ...this.rendered, samples: m.samples, latest: m.latest, drawn: m.drawn };
          break;
        case 'forceRelease':
          await this.actions.forceRelease(m.name);
          break;
        case 'command':
          if (m.command === 'sampleNow') await this.actions.sampleNow();
          else await vscode.commands.executeCommand(COMMANDS[m.command]);
          break;
      }
    } catch (err) {
      const message = errorMessage(err);
      this.log.error(`dashboard: ${m.type} failed: ${message}`);
      this.post({ type: 'error', message });
    }
  }

  private html(webview: vscode.Webview): string {
    const nonce = randomBytes(16).toString('base64');
    const script = webview.asWebviewUri(vscode.Uri.joinPath(this.root, 'main.js'));
    const style = webview.asWebviewUri(vscode.Uri.joinPath(this.root, 'main.css'));
    const csp = [
      `default-src 'none'`,
      `img-src ${webview.cspSource} data:`,
      `style-src ${webview.cspSource}`,
      `font-src ${webview.cspSource}`,
      `script-src 'nonce-${nonce}'`,
    ].join('; ');
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style.toString()}">
<title>Docker Stability</title>
</head>
<body>
<main id="app" aria-live="polite"><p>Loading the dashboard…</p></main>
<script nonce="${nonce}" src="${script.toString()}"></script>
</body>
</html>`;
  }

  dispose(): void {
    this.panel?.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
