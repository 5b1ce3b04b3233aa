import * as vscode from 'vscode';
import { CommandId } from './commandIds';
import { renderStatus, type StatusInput, type StatusView } from './statusText';

/** The one status bar item: level, driving figure, lock holder; click opens the dashboard. */
export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private current: StatusView;

  constructor() {
    this.item = vscode.window.createStatusBarItem(
      'dockerStability.status',
      vscode.StatusBarAlignment.Left,
      50,
    );
    this.item.name = 'Docker Stability';
    this.item.command = CommandId.openDashboard;
    this.current = renderStatus({ locks: [] });
    this.apply();
    this.item.show();
  }

  update(input: StatusInput): void {
    this.current = renderStatus(input);
    this.apply();
  }

  /** What the item shows now (the test API reads it). */
  get view(): StatusView {
    return this.current;
  }

  private apply(): void {
    const v = this.current;
    this.item.text = v.text;
    this.item.accessibilityInformation = {
      label: `Docker Stability: ${v.text.replace(/\$\([^)]*\)\s*/g, '')}`,
      role: 'button',
    };
    this.item.backgroundColor =
      v.background === 'error'
        ? new vscode.ThemeColor('statusBarItem.errorBackground')
        : v.background === 'warning'
          ? new vscode.ThemeColor('statusBarItem.warningBackground')
          : undefined;
    const md = new vscode.MarkdownString(v.tooltip, true);
    md.isTrusted = { enabledCommands: v.tooltipCommands };
    this.item.tooltip = md;
  }

  dispose(): void {
    this.item.dispose();
  }
}
