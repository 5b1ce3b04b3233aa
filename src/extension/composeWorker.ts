// The compose rules off the extension host's main thread: a worker_threads script (its own
// bundle, dist/compose-worker.js) that checks one text per message. It never imports vscode.
import { parentPort } from 'node:worker_threads';
import { checkCompose, readComposeText, type Finding } from '../core/compose';
import { errorMessage } from '../shared/errors';

export interface CheckRequest {
  id: number;
  text: string;
  fileName: string;
  /** At most this many findings come back (copying them is the host's cost); `total` counts all. */
  max: number;
  /** Globs naming the test files (validated by the host); empty: the word rule. */
  testGlobs?: string[];
}

export type CheckResponse =
  { id: number; findings: Finding[]; total: number } | { id: number; error: string };

parentPort?.on('message', (m: CheckRequest) => {
  let reply: CheckResponse;
  try {
    // extends files are read bounded (regular files only, size cap): a FIFO cannot hang the check.
    const findings = checkCompose(m.text, m.fileName, {
      readFile: (p) => readComposeText(p),
      testGlobs: m.testGlobs,
    });
    reply = { id: m.id, findings: findings.slice(0, m.max), total: findings.length };
  } catch (err) {
    reply = { id: m.id, error: errorMessage(err) };
  }
  parentPort?.postMessage(reply);
});
