import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import {
  parseWebviewMessage,
  type HostMessage,
  type OpenMarks,
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
  /** The host's marks (Unix ms) of the opening in progress, logged with the webview's once it has drawn. */
  private opening: HostMarks = {};
  /** The last opening, measured end to end (the test API and the benchmark read it). */
  lastOpening?: Opening;

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
    this.opening = { command: Date.now() };
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
    this.opening.panel = Date.now();
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
    this.opening.html = Date.now();
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
        case 'ready': {
          this.opening.ready = Date.now();
          const snapshot = this.model.snapshot();
          this.post({ type: 'snapshot', snapshot });
          this.opening.posted = Date.now();
          this.opening.samples = snapshot.samples.length;
          break;
        }
        case 'opened':
          // once per snapshot asked for: a webview repeating itself fills no log
          if (this.opening.posted === undefined) break;
          this.lastOpening = { host: this.opening, webview: m.marks };
          this.opening = {};
          this.log.info(`dashboard: ${describeOpening(this.lastOpening)}`);
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

/**
 * The host's marks of one opening (Unix ms): our command ran, the panel was created, its HTML
 * set, the webview's `ready` received, the snapshot posted. A panel restored after a reload or
 * shown again has no command or panel mark.
 */
export interface HostMarks {
  command?: number;
  panel?: number;
  html?: number;
  ready?: number;
  posted?: number;
  samples?: number;
}

export interface Opening {
  host: HostMarks;
  webview: OpenMarks;
}

/**
 * One opening in steps, each from the one before: what VS Code does (the panel, the webview's
 * frames, delivering messages) and what we do (loading and running the bundle, the snapshot,
 * the charts). Host and webview clocks agree when both run on one machine.
 */
export function describeOpening({ host, webview: w }: Opening): string {
  const start = host.command ?? host.html ?? w.page;
  const at = (t: number | undefined): string => (t === undefined ? '?' : `${Math.round(t - start)} ms`);
  const steps = [
    host.panel !== undefined && `panel created ${at(host.panel)}`,
    `HTML set ${at(host.html)}`,
    `page started ${at(w.page)}`,
    `bundle loaded ${at(w.bundle)}`,
    `script started ${at(w.script)}`,
    `ready sent ${at(w.ready)}`,
    `ready received ${at(host.ready)}`,
    `snapshot of ${host.samples ?? '?'} samples posted ${at(host.posted)}`,
    `received ${at(w.snapshot)}`,
    `charts made ${at(w.charts)}`,
    `first frame drawn ${at(w.frame)}`,
  ].filter(Boolean);
  const from = host.command !== undefined ? 'command' : host.html !== undefined ? 'HTML set' : 'page start';
  return `opened in ${at(w.frame)} (from the ${from} at ${new Date(start).toISOString()}): ${steps.join(', ')}`;
}
