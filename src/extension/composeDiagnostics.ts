// Compose rules as Problems: checked on open and (debounced) on edit of files matching the
// configured globs, with quick fixes for the findings that carry a safe fix.
import * as vscode from 'vscode';
import { loadCompose } from './lazy';
import type { Finding } from '../core/compose';

const SOURCE = 'docker-stability';
const DEBOUNCE_MS = 300;

type Check = (text: string, fileName: string) => Finding[];

interface Checked {
  version: number;
  findings: Finding[];
}

export class ComposeDiagnostics implements vscode.Disposable, vscode.CodeActionProvider {
  static readonly providedCodeActionKinds = [vscode.CodeActionKind.QuickFix];
  private readonly collection = vscode.languages.createDiagnosticCollection('docker-stability compose');
  private readonly checked = new Map<string, Checked>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly disposables: vscode.Disposable[] = [this.collection];
  private check?: Promise<Check>;
  private selector: vscode.DocumentFilter[] = [];
  private actionsRegistration?: vscode.Disposable;

  constructor(
    private enabled: boolean,
    globs: string[],
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.disposables.push(
      vscode.workspace.onDidOpenTextDocument((d) => this.schedule(d, 0)),
      vscode.workspace.onDidChangeTextDocument((e) => this.schedule(e.document, DEBOUNCE_MS)),
      vscode.workspace.onDidCloseTextDocument((d) => this.forget(d.uri)),
    );
    this.configure(enabled, globs);
  }

  /** Settings changed: new globs or on/off; re-checks every open document. */
  configure(enabled: boolean, globs: string[]): void {
    this.enabled = enabled;
    this.selector = globs.map((pattern) => ({ pattern }));
    this.actionsRegistration?.dispose();
    this.actionsRegistration = vscode.languages.registerCodeActionsProvider(this.selector, this, { providedCodeActionKinds: ComposeDiagnostics.providedCodeActionKinds });
    this.collection.clear();
    this.checked.clear();
    for (const d of vscode.workspace.textDocuments) this.schedule(d, 0);
  }

  matches(doc: vscode.TextDocument): boolean {
    return this.enabled && (doc.uri.scheme === 'file' || doc.uri.scheme === 'untitled') && vscode.languages.match(this.selector, doc) > 0;
  }

  /** The findings last published for a document (the test API reads them). */
  findings(uri: vscode.Uri): Finding[] {
    return this.checked.get(uri.toString())?.findings ?? [];
  }

  private schedule(doc: vscode.TextDocument, delayMs: number): void {
    if (!this.matches(doc)) return;
    const key = doc.uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        void this.run(doc);
      }, delayMs),
    );
  }

  /** Checks one document now and publishes its diagnostics. */
  async run(doc: vscode.TextDocument): Promise<Finding[]> {
    if (!this.matches(doc) || doc.isClosed) return [];
    // The rules (and the YAML parser) load on the first compose file, not at activation.
    // extends files are read bounded (regular files only, size cap): a FIFO must not hang the host.
    this.check ??= loadCompose().then((m): Check => (text, fileName) => m.checkCompose(text, fileName, { readFile: (p) => m.readComposeText(p) }));
    const check = await this.check;
    const version = doc.version;
    const text = doc.getText();
    const started = performance.now();
    const findings = check(text, doc.uri.fsPath);
    if (doc.isClosed || doc.version !== version) return findings; // a newer edit is scheduled
    this.checked.set(doc.uri.toString(), { version, findings });
    this.collection.set(doc.uri, findings.map((f) => toDiagnostic(doc, f)));
    this.log.debug(`compose: ${findings.length} finding(s) in ${doc.uri.fsPath} (${Math.round(performance.now() - started)} ms)`);
    return findings;
  }

  private forget(uri: vscode.Uri): void {
    const key = uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    this.checked.delete(key);
    this.collection.delete(uri);
  }

  provideCodeActions(doc: vscode.TextDocument, _range: vscode.Range, context: vscode.CodeActionContext): vscode.CodeAction[] {
    const checked = this.checked.get(doc.uri.toString());
    if (!checked || checked.version !== doc.version) return []; // offsets would point at stale text
    const actions: vscode.CodeAction[] = [];
    for (const diag of context.diagnostics) {
      if (diag.source !== SOURCE) continue;
      const f = checked.findings.find((x) => x.rule === codeOf(diag) && sameRange(doc, x, diag.range));
      if (!f?.fix) continue;
      const action = new vscode.CodeAction(f.fix.title, vscode.CodeActionKind.QuickFix);
      action.diagnostics = [diag];
      action.isPreferred = f.fix.edits.length > 0;
      const edit = new vscode.WorkspaceEdit();
      for (const e of f.fix.edits) edit.replace(doc.uri, new vscode.Range(doc.positionAt(e.offset), doc.positionAt(e.offset + e.length)), e.newText);
      action.edit = edit;
      actions.push(action);
    }
    return actions;
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.actionsRegistration?.dispose();
    for (const d of this.disposables) d.dispose();
  }
}


function codeOf(d: vscode.Diagnostic): string | undefined {
  const c = d.code;
  if (typeof c === 'string') return c;
  if (typeof c === 'object' && c !== null) return String(c.value);
  return undefined;
}

function rangeOf(doc: vscode.TextDocument, f: Finding): vscode.Range {
  return new vscode.Range(doc.positionAt(f.offset), doc.positionAt(Math.max(f.offset, f.endOffset)));
}

function sameRange(doc: vscode.TextDocument, f: Finding, r: vscode.Range): boolean {
  return rangeOf(doc, f).isEqual(r);
}

const SEVERITY = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  info: vscode.DiagnosticSeverity.Information,
} as const;

function toDiagnostic(doc: vscode.TextDocument, f: Finding): vscode.Diagnostic {
  const d = new vscode.Diagnostic(rangeOf(doc, f), f.message, SEVERITY[f.severity]);
  d.source = SOURCE;
  d.code = f.rule;
  return d;
}
