// The compose rules off the extension host's main thread: a worker_threads script (its own
// bundle, dist/compose-worker.js) that checks one text per message. It never imports vscode.
// Findings go back without their fixes (the fixes' texts tripled what the host's main thread
// paid to receive a reply); the worker keeps them for its last few checks and hands out those
// asked for when the editor wants the quick fixes at a range.
import { parentPort } from 'node:worker_threads';
import { checkCompose, readComposeText, type Finding } from '../core/compose';
import { errorMessage } from '../shared/errors';

export interface CheckRequest {
  kind?: 'check';
  id: number;
  text: string;
  fileName: string;
  /** At most this many findings come back (copying them is the host's cost); `total` counts all. */
  max: number;
  /** Globs naming the test files (validated by the host); empty: the word rule. */
  testGlobs?: string[];
}

/** The fixes of findings `indexes` (positions in the reply) of the check `check`. */
export interface FixRequest {
  kind: 'fixes';
  id: number;
  check: number;
  indexes: number[];
}

/** A finding as a check reply carries it: `fixable` instead of the fix itself. */
export type SentFinding = Omit<Finding, 'fix'> & { fixable?: true };

export type CheckResponse =
  | { id: number; findings: SentFinding[]; total: number }
  | { id: number; fixes: Array<Finding['fix']> }
  | { id: number; error: string };

/** Checks whose fixes are kept: the editor asks for those of the diagnostics it shows. */
const KEPT_CHECKS = 8;
const kept = new Map<number, Array<Finding['fix']>>();

function check(m: CheckRequest): CheckResponse {
  // extends files are read bounded (regular files only, size cap): a FIFO cannot hang the check.
  const all = checkCompose(m.text, m.fileName, {
    readFile: (p) => readComposeText(p),
    testGlobs: m.testGlobs,
  });
  const sent = all.slice(0, m.max);
  kept.set(
    m.id,
    sent.map((f) => f.fix),
  );
  for (const id of kept.keys()) if (kept.size > KEPT_CHECKS) kept.delete(id);
  const findings = sent.map(({ fix, ...f }): SentFinding => (fix ? { ...f, fixable: true } : f));
  return { id: m.id, findings, total: all.length };
}

function fixes(m: FixRequest): CheckResponse {
  const list = kept.get(m.check);
  if (!list) return { id: m.id, error: 'that check is no longer kept' };
  return { id: m.id, fixes: m.indexes.map((i) => list[i]) };
}

parentPort?.on('message', (m: CheckRequest | FixRequest) => {
  let reply: CheckResponse;
  try {
    reply = m.kind === 'fixes' ? fixes(m) : check(m);
  } catch (err) {
    reply = { id: m.id, error: errorMessage(err) };
  }
  parentPort?.postMessage(reply);
});
