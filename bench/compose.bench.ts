// Compose check benchmark: time and peak memory of `checkCompose` on generated files of growing
// size (the same service pattern repeated: an image, a command, a port, an environment), against
// `docker-compose config -q` on the same file (what a user would otherwise run to check one).
// Prints a Markdown section for BENCHMARKS.md ("## Compose").
//   node out/bench/compose.bench.js           run the benchmark
//   node out/bench/compose.bench.js check|parse N   (internal) one measurement of N services
//   node out/bench/compose.bench.js editor          the editor's line alone
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { LineCounter, parseAllDocuments } from 'yaml';
import { checkCompose } from '../src/core/compose';
import type { CheckResponse } from '../src/extension/composeWorker';

/** docker-compose 1.29 (PyYAML) needs minutes on the largest file: it is stopped there. */
const COMPOSE_TIMEOUT_MS = 120_000;
const WORKER = resolve(__dirname, '../../dist/compose-worker.js');

/** N services in about 130 bytes each: 40k services make a 5 MB file. */
export function generated(n: number): string {
  const parts = ['services:'];
  for (let i = 0; i < n; i++)
    parts.push(
      `  svc${i}:\n    image: postgres:16-alpine\n    command: postgres -c fsync=off\n    ports: ["${5000 + (i % 1000)}:5432"]\n    environment: {A: "1", B: "two"}`,
    );
  return parts.join('\n') + '\n';
}

/**
 * One measurement in a fresh process: `check` runs checkCompose, `parse` only the yaml library's
 * parse of the whole file with positions (the floor under the whole-document path; checkCompose
 * checks such a file in parts). CPU time is reported
 * next to wall time: on a machine shared with other jobs the wall time mostly measures the load.
 */
function one(n: number, what: 'check' | 'parse'): void {
  const text = generated(n);
  const t = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  let findings = 0;
  if (what === 'check') findings = checkCompose(text, '/bench/docker-compose.test.yml').length;
  else parseAllDocuments(text, { merge: true, uniqueKeys: false, lineCounter: new LineCounter() });
  const used = process.cpuUsage(cpu);
  process.stdout.write(
    JSON.stringify({
      bytes: text.length,
      findings,
      ms: Number(process.hrtime.bigint() - t) / 1e6,
      cpuMs: (used.user + used.system) / 1000,
      maxRssMB: process.resourceUsage().maxRSS / 1024,
    }),
  );
}

type One = { bytes: number; findings: number; ms: number; cpuMs: number; maxRssMB: number };

function measure(n: number, what: 'check' | 'parse'): One {
  const r = spawnSync(process.execPath, [__filename, what, String(n)], {
    encoding: 'utf8',
    timeout: 600_000,
  });
  return JSON.parse(r.stdout) as One;
}

/**
 * The editor's path for one edit of a 1 MB file, as the extension runs it: the text goes to the
 * compose worker, at most 1000 findings come back and become ranges. Per edit: the longest
 * event-loop delay (1 ms resolution; on a loaded machine it also counts the time the main thread
 * waits for a core), the main thread's busy time (event-loop utilisation: what the post, the
 * reply's copy and the ranges cost it) and the time to diagnostics.
 */
async function editorBlock(
  services: number,
  edits: number,
): Promise<{ bytes: number; maxBlockMs: number[]; busyMs: number[]; latencyMs: number[] }> {
  const worker = new Worker(WORKER);
  let text = generated(services);
  const maxBlockMs: number[] = [];
  const busyMs: number[] = [];
  const latencyMs: number[] = [];
  try {
    for (let i = 0; i < edits; i++) {
      text = text.replace(/image: postgres:16-alpine/, `image: postgres:16-alpine # edit ${i}`);
      const h = monitorEventLoopDelay({ resolution: 1 });
      h.enable();
      const elu = performance.eventLoopUtilization();
      const t = process.hrtime.bigint();
      const reply = await new Promise<CheckResponse>((done) => {
        worker.once('message', done);
        worker.postMessage({ id: i, text, fileName: '/bench/docker-compose.test.yml', max: 1000 });
      });
      const ranges =
        'findings' in reply
          ? reply.findings.map((f) => [f.line - 1, f.column - 1, f.endLine - 1, f.endColumn - 1])
          : [];
      latencyMs.push(Number(process.hrtime.bigint() - t) / 1e6);
      busyMs.push(performance.eventLoopUtilization(elu).active);
      h.disable();
      if (ranges.length === 0) throw new Error('the worker found nothing');
      maxBlockMs.push(h.max / 1e6);
    }
  } finally {
    await worker.terminate();
  }
  return { bytes: text.length, maxBlockMs, busyMs, latencyMs };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function editorLine(): Promise<string> {
  if (!existsSync(WORKER)) return 'Editor: dist/compose-worker.js missing (run npm run build).';
  const e = await editorBlock(8000, 10);
  const [l1] = loadavg();
  return `Editor, ${(e.bytes / 1024 / 1024).toFixed(1)} MB file, 10 edits through the compose worker (load ${l1?.toFixed(1)}): longest event-loop delay per edit ${Math.max(...e.maxBlockMs).toFixed(0)} ms (median ${median(e.maxBlockMs).toFixed(0)} ms; target < 50 ms), main thread busy ${Math.max(...e.busyMs).toFixed(1)} ms per edit at most (median ${median(e.busyMs).toFixed(1)} ms), diagnostics ${median(e.latencyMs).toFixed(0)} ms after the edit (median).`;
}

async function main(): Promise<void> {
  const rows: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'ds-compose-bench-'));
  try {
    for (const n of [4000, 8000, 40000]) {
      const res = measure(n, 'check');
      const parse = measure(n, 'parse');
      const file = join(dir, `docker-compose.${n}.yml`);
      writeFileSync(file, generated(n));
      const t = Date.now();
      const c = spawnSync('docker-compose', ['-f', file, 'config', '-q'], {
        cwd: dir,
        timeout: COMPOSE_TIMEOUT_MS,
      });
      const composeMs = Date.now() - t;
      const composeS =
        c.status === 0
          ? (composeMs / 1000).toFixed(1)
          : c.signal
            ? `> ${COMPOSE_TIMEOUT_MS / 1000}`
            : `failed (${c.status})`;
      const s = (ms: number): string => (ms / 1000).toFixed(1);
      const ratio = c.status === 0 ? ` (${(composeMs / res.ms).toFixed(0)}x)` : '';
      rows.push(
        `| ${n} | ${(res.bytes / 1024 / 1024).toFixed(1)} MB | ${res.findings} | ${s(res.ms)} s (CPU ${s(res.cpuMs)} s) | ${res.maxRssMB.toFixed(0)} MB | ${s(parse.ms)} s (CPU ${s(parse.cpuMs)} s), ${parse.maxRssMB.toFixed(0)} MB | ${composeS} s${ratio} |`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const editor = await editorLine();
  const [l1] = loadavg();
  console.log(
    [
      '## Compose',
      '',
      `Machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), load average ${l1?.toFixed(1)} during the run (shared with other jobs), Node ${process.version}, ${new Date().toISOString().slice(0, 10)}.`,
      'Generated test file (`docker-compose.test.yml`), each service with 5 findings and their fixes rendered; one process per size.',
      '',
      '| Services | Size | Findings | `checkCompose` | Peak RSS | yaml parse of the whole file (the floor of the whole-document path) | `docker-compose config -q` (1.29), its time / ours |',
      '|---|---|---|---|---|---|---|',
      ...rows,
      '',
      'Target (issue 14): 5 MB / 40k services under 5 s and 200 MB.',
      '',
      editor,
    ].join('\n'),
  );
}

const mode = process.argv[2];
if (mode === 'check' || mode === 'parse') one(Number(process.argv[3]), mode);
else if (mode === 'editor') void editorLine().then((line) => console.log(line));
else void main();
