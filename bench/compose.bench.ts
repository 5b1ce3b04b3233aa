// Compose check benchmark: time and peak memory of `checkCompose` on generated files of growing
// size (the same service pattern repeated: an image, a command, a port, an environment), against
// `docker-compose config -q` on the same file (what a user would otherwise run to check one).
// Prints a Markdown section for BENCHMARKS.md ("## Compose").
//   node out/bench/compose.bench.js           run the benchmark
//   node out/bench/compose.bench.js one N     (internal) check one generated file of N services
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
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
      `  svc${i}:\n    image: postgres:16\n    command: postgres -c fsync=off\n    ports: ["${5000 + (i % 1000)}:5432"]\n    environment: {A: "1", B: "two"}`,
    );
  return parts.join('\n') + '\n';
}

function one(n: number): void {
  const text = generated(n);
  const t = process.hrtime.bigint();
  const findings = checkCompose(text, '/bench/docker-compose.test.yml');
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  process.stdout.write(
    JSON.stringify({
      bytes: text.length,
      findings: findings.length,
      ms,
      maxRssMB: process.resourceUsage().maxRSS / 1024,
    }),
  );
}

/**
 * The editor's path for one edit of a 1 MB file, as the extension runs it: the text goes to the
 * compose worker, at most 1000 findings come back and become ranges. Returns the longest
 * main-thread block per edit (event-loop delay, 1 ms resolution) and the time to diagnostics.
 */
async function editorBlock(
  services: number,
  edits: number,
): Promise<{ bytes: number; maxBlockMs: number[]; latencyMs: number[] }> {
  const worker = new Worker(WORKER);
  let text = generated(services);
  const maxBlockMs: number[] = [];
  const latencyMs: number[] = [];
  try {
    for (let i = 0; i < edits; i++) {
      text = text.replace(/image: postgres:16/, `image: postgres:16 # edit ${i}`);
      const h = monitorEventLoopDelay({ resolution: 1 });
      h.enable();
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
      h.disable();
      if (ranges.length === 0) throw new Error('the worker found nothing');
      maxBlockMs.push(h.max / 1e6);
    }
  } finally {
    await worker.terminate();
  }
  return { bytes: text.length, maxBlockMs, latencyMs };
}

async function main(): Promise<void> {
  const rows: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'ds-compose-bench-'));
  try {
    for (const n of [4000, 8000, 40000]) {
      const r = spawnSync(process.execPath, [__filename, 'one', String(n)], {
        encoding: 'utf8',
        timeout: 600_000,
      });
      const res = JSON.parse(r.stdout) as { bytes: number; findings: number; ms: number; maxRssMB: number };
      const file = join(dir, `docker-compose.${n}.yml`);
      writeFileSync(file, generated(n));
      const t = Date.now();
      const c = spawnSync('docker-compose', ['-f', file, 'config', '-q'], {
        cwd: dir,
        timeout: COMPOSE_TIMEOUT_MS,
      });
      const composeS =
        c.status === 0
          ? ((Date.now() - t) / 1000).toFixed(1)
          : c.signal
            ? `> ${COMPOSE_TIMEOUT_MS / 1000}`
            : `failed (${c.status})`;
      rows.push(
        `| ${n} | ${(res.bytes / 1024 / 1024).toFixed(1)} MB | ${res.findings} | ${(res.ms / 1000).toFixed(1)} s | ${res.maxRssMB.toFixed(0)} MB | ${composeS} s |`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const editor = existsSync(WORKER) ? await editorBlock(8000, 10) : undefined;
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  const editorLine = editor
    ? `Editor, ${(editor.bytes / 1024 / 1024).toFixed(1)} MB file, 10 edits through the compose worker: longest main-thread block per edit ${Math.max(...editor.maxBlockMs).toFixed(0)} ms (median ${median(editor.maxBlockMs).toFixed(0)} ms; target < 50 ms), diagnostics ${median(editor.latencyMs).toFixed(0)} ms after the edit (median).`
    : 'Editor: dist/compose-worker.js missing (run npm run build).';
  const [l1] = loadavg();
  console.log(
    [
      '## Compose',
      '',
      `Machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), load average ${l1?.toFixed(1)} during the run (shared with other jobs), Node ${process.version}, ${new Date().toISOString().slice(0, 10)}.`,
      'Generated test file (`docker-compose.test.yml`), each service with 5 findings and their fixes rendered; one process per size.',
      '',
      '| Services | Size | Findings | `checkCompose` | Peak RSS | `docker-compose config -q` (1.29) |',
      '|---|---|---|---|---|---|',
      ...rows,
      '',
      'Target (issue 14): 5 MB / 40k services under 5 s and 200 MB.',
      '',
      editorLine,
    ].join('\n'),
  );
}

if (process.argv[2] === 'one') one(Number(process.argv[3]));
else void main();
