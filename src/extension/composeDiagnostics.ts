// Compose rules as Problems: checked on open and (debounced) on edit of files matching the
// configured globs, with quick fixes for the findings that carry a safe fix. The check runs in a
// worker thread (dist/compose-worker.js): the host's main thread only hands it the text and turns
// the findings into diagnostics, so a large file never blocks the editor. The fixes stay in the
// worker until the editor asks for the quick fixes at a diagnostic.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import * as vscode from 'vscode';
import { fileFinding, validateTestGlobs, type Finding } from '../core/compose';
import type { CheckRequest, CheckResponse, FixRequest, SentFinding } from './composeWorker';
import type { ExtensionConfig } from './settings';

type ComposeSettings = ExtensionConfig['compose'];

const SOURCE = 'docker-stability';
const DEBOUNCE_MS = 300;
/** Larger texts are not checked as you type (the CLI checks them): a message says so. */
export const MAX_EDITOR_BYTES = 4 * 1024 * 1024;
/** A check that takes longer is abandoned and its worker replaced. */
const CHECK_TIMEOUT_MS = 30_000;
/** Past this many, diagnostics would cost the host more than they tell. */
const MAX_DIAGNOSTICS = 1000;

/** One worker thread, started on the first check; a hung check is cut off and the worker replaced. */
class CheckWorker {
  private worker?: Worker;
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (r: CheckResponse) => void; timer: NodeJS.Timeout }
  >();

  check(text: string, fileName: string, testGlobs: string[]): Promise<CheckResponse> {
    return this.request((id) => ({ id, text, fileName, max: MAX_DIAGNOSTICS, testGlobs }));
  }

  /** The fixes of findings of an earlier check, by their position in its reply. */
  fixes(check: number, indexes: number[]): Promise<CheckResponse> {
    return this.request((id) => ({ kind: 'fixes', id, check, indexes }));
  }

  private request(message: (id: number) => CheckRequest | FixRequest): Promise<CheckResponse> {
    const worker = this.ensure();
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.reset(`the check took longer than ${CHECK_TIMEOUT_MS / 1000} s`);
      }, CHECK_TIMEOUT_MS);
      this.pending.set(id, { resolve, timer });
      worker.postMessage(message(id));
    });
  }

  private ensure(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(join(__dirname, 'compose-worker.js'));
    worker.on('message', (r: CheckResponse) => {
      const p = this.pending.get(r.id);
      if (!p) return;
      clearTimeout(p.timer);
      this.pending.delete(r.id);
      p.resolve(r);
    });
    worker.on('error', (err) => this.reset(err.message));
    worker.unref();
    this.worker = worker;
    return worker;
  }

  /** Fails every pending check and drops the worker (the next check starts a new one). */
  private reset(why: string): void {
    const w = this.worker;
    this.worker = undefined;
    void w?.terminate();
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.resolve({ id, error: why });
    }
    this.pending.clear();
  }

  dispose(): void {
    this.reset('disposed');
  }
}

interface Checked {
  version: number;
  findings: Array<Finding & { fixable?: true }>;
  /** The worker's check that gave them: it keeps their fixes. */
  check?: number;
}

export class ComposeDiagnostics implements vscode.Disposable, vscode.CodeActionProvider {
  static readonly providedCodeActionKinds = [vscode.CodeActionKind.QuickFix];
  private readonly collection = vscode.languages.createDiagnosticCollection('docker-stability compose');
  private readonly checked = new Map<string, Checked>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly disposables: vscode.Disposable[] = [this.collection];
  private readonly worker = new CheckWorker();
  private selector: vscode.DocumentFilter[] = [];
  private testGlobs: string[] = [];
  private enabled = false;
  private actionsRegistration?: vscode.Disposable;

  constructor(
    settings: ComposeSettings,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.disposables.push(
      vscode.workspace.onDidOpenTextDocument((d) => this.schedule(d, 0)),
      vscode.workspace.onDidChangeTextDocument((e) => this.schedule(e.document, DEBOUNCE_MS)),
      vscode.workspace.onDidCloseTextDocument((d) => this.forget(d.uri)),
    );
    this.configure(settings);
  }

  /** Settings changed: new globs or on/off; re-checks every open document. */
  configure({ diagnostics: enabled, globs, testFileGlobs }: ComposeSettings): void {
    this.enabled = enabled;
    const tests = validateTestGlobs(testFileGlobs);
    // A bad glob keeps the word rule (which files say test by name or folder), and says so once.
    if (tests.error)
      void vscode.window.showWarningMessage(`docker-stability: ${tests.error}; using the default`);
    this.testGlobs = tests.globs;
    this.selector = globs.map((pattern) => ({ pattern }));
    this.actionsRegistration?.dispose();
    this.actionsRegistration = vscode.languages.registerCodeActionsProvider(this.selector, this, {
      providedCodeActionKinds: ComposeDiagnostics.providedCodeActionKinds,
    });
    this.collection.clear();
    this.checked.clear();
    for (const d of vscode.workspace.textDocuments) this.schedule(d, 0);
  }

  matches(doc: vscode.TextDocument): boolean {
    return (
      this.enabled &&
      (doc.uri.scheme === 'file' || doc.uri.scheme === 'untitled') &&
      vscode.languages.match(this.selector, doc) > 0
    );
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

  /** Checks one document now (in the worker) and publishes its diagnostics. */
  async run(doc: vscode.TextDocument): Promise<Finding[]> {
    if (!this.matches(doc) || doc.isClosed) return [];
    const version = doc.version;
    const started = performance.now();
    const text = doc.getText();
    const refusal = await refuse(doc, text);
    let findings: Checked['findings'];
    let check: number | undefined;
    if (refusal !== undefined) findings = [notice(refusal)];
    else {
      const r = await this.worker.check(text, doc.uri.fsPath, this.testGlobs);
      if ('findings' in r) {
        findings = r.findings as SentFinding[];
        check = r.id;
        if (r.total > r.findings.length)
          findings.push(notice(`${r.total - r.findings.length} more findings not shown: run compose check`));
      } else findings = [notice(`the compose check failed: ${'error' in r ? r.error : 'no findings'}`)];
    }
    if (doc.isClosed || doc.version !== version) return findings; // a newer edit is scheduled
    this.checked.set(doc.uri.toString(), { version, findings, check });
    this.collection.set(doc.uri, findings.map(toDiagnostic));
    this.log.debug(
      `compose: ${findings.length} finding(s) in ${doc.uri.fsPath} (${Math.round(performance.now() - started)} ms)`,
    );
    return findings;
  }

  private forget(uri: vscode.Uri): void {
    const key = uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    this.checked.delete(key);
    this.collection.delete(uri);
  }

  async provideCodeActions(
    doc: vscode.TextDocument,
    _range: vscode.Range,
    context: vscode.CodeActionContext,
  ): Promise<vscode.CodeAction[]> {
    const checked = this.checked.get(doc.uri.toString());
    // Offsets would point at stale text.
    if (!checked || checked.version !== doc.version || checked.check === undefined) return [];
    const wanted: Array<{ diag: vscode.Diagnostic; index: number }> = [];
    for (const diag of context.diagnostics) {
      if (diag.source !== SOURCE) continue;
      const index = checked.findings.findIndex((x) => x.rule === codeOf(diag) && sameRange(x, diag.range));
      if (index >= 0 && checked.findings[index]?.fixable) wanted.push({ diag, index });
    }
    if (wanted.length === 0) return [];
    const r = await this.worker.fixes(
      checked.check,
      wanted.map((w) => w.index),
    );
    if (!('fixes' in r) || doc.version !== checked.version) return [];
    const actions: vscode.CodeAction[] = [];
    wanted.forEach(({ diag }, i) => {
      const fix = r.fixes[i];
      if (!fix) return;
      const action = new vscode.CodeAction(fix.title, vscode.CodeActionKind.QuickFix);
      action.diagnostics = [diag];
      action.isPreferred = fix.edits.length > 0;
      const edit = new vscode.WorkspaceEdit();
      for (const e of fix.edits)
        edit.replace(
          doc.uri,
          new vscode.Range(doc.positionAt(e.offset), doc.positionAt(e.offset + e.length)),
          e.newText,
        );
      action.edit = edit;
      actions.push(action);
    });
    return actions;
  }

  dispose(): void {
    this.worker.dispose();
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

/** From the finding's own 1-based positions: no pass over the document per finding. */
function rangeOf(f: Finding): vscode.Range {
  return new vscode.Range(f.line - 1, f.column - 1, f.endLine - 1, f.endColumn - 1);
}

function sameRange(f: Finding, r: vscode.Range): boolean {
  return rangeOf(f).isEqual(r);
}

const SEVERITY = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  info: vscode.DiagnosticSeverity.Information,
} as const;

function toDiagnostic(f: Finding): vscode.Diagnostic {
  const d = new vscode.Diagnostic(rangeOf(f), f.message, SEVERITY[f.severity]);
  d.source = SOURCE;
  d.code = f.rule;
  return d;
}

/** An information at the top of the file: why it was not (fully) checked. */
function notice(message: string): Finding {
  return fileFinding('info', message);
}

/** Why a document is not checked as you type: too large, or its file is not a regular one (a FIFO, a device). */
async function refuse(doc: vscode.TextDocument, text: string): Promise<string | undefined> {
  if (doc.uri.scheme === 'file') {
    const st = await fsp.stat(doc.uri.fsPath).catch(() => undefined);
    if (st && !st.isFile()) return 'not checked: the file is not a regular file (a FIFO or a device)';
  }
  // Characters, not bytes: close enough for a cap, and free (no encoding pass over the text).
  const size = text.length;
  if (size > MAX_EDITOR_BYTES)
    return `not checked as you type: ${(size / 1024 / 1024).toFixed(1)} MB is above the ${MAX_EDITOR_BYTES / 1024 / 1024} MB editor cap (run compose check on it)`;
  return undefined;
}
