import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { run, type Spawned } from '../../helpers/run';

/** The built CLI (npm test and test:core build it first). */
export const CLI = resolve(__dirname, '../../../../dist/cli.js');

export type AgentLine = Record<string, unknown> & { event: string; time: string };

/** A port nobody listens on right now (the kernel picks it), for metrics and Prometheus. */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => done(port));
    });
  });
}

/**
 * One test's agent world: its own DOCKER_STABILITY_HOME (history, run records, agent lock) and
 * lock folder, so agents of parallel suites and of the machine never meet this one.
 */
export class AgentWorld {
  readonly home = mkdtempSync(join(tmpdir(), 'ds-agent-'));
  readonly env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: this.home,
    DOCKER_STABILITY_HOME: this.home,
    DOCKER_STABILITY_LOCK_DIR: join(this.home, 'locks'),
  };
  private readonly agents: AgentProcess[] = [];

  private configs = 0;

  config(value: unknown): string {
    const file = join(this.home, `config-${++this.configs}.json`);
    writeFileSync(file, JSON.stringify(value));
    return file;
  }

  /** `docker-stability ARGS` once, in this world. */
  cli(args: string[], timeoutMs = 30_000): Promise<Spawned> {
    return run('node', [CLI, ...args], { env: this.env, timeoutMs });
  }

  /** Starts `docker-stability agent --json ARGS` in this world. */
  start(args: string[]): AgentProcess {
    const a = new AgentProcess(
      spawn('node', [CLI, 'agent', '--json', ...args], { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] }),
    );
    this.agents.push(a);
    return a;
  }

  /** Kills whatever agent a failed test left running, then removes the world's folder. */
  async dispose(): Promise<void> {
    await Promise.all(this.agents.map((a) => a.kill()));
    rmSync(this.home, { recursive: true, force: true });
  }
}

export class AgentProcess {
  readonly lines: AgentLine[] = [];
  stderr = '';
  private partial = '';
  readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (d: Buffer) => {
      const text = this.partial + d.toString();
      const parts = text.split('\n');
      this.partial = parts.pop() ?? '';
      for (const p of parts) if (p.trim()) this.lines.push(JSON.parse(p) as AgentLine);
    });
    child.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((done) => child.on('exit', (code) => done(code)));
  }

  events(name: string): AgentLine[] {
    return this.lines.filter((l) => l.event === name);
  }

  /** The first line (after `from` lines) of this event that passes `match`, within `timeoutMs`. */
  async waitFor(
    name: string,
    timeoutMs: number,
    match: (l: AgentLine) => boolean = () => true,
    from = 0,
  ): Promise<AgentLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.lines.slice(from).find((l) => l.event === name && match(l));
      if (hit) return hit;
      if (this.child.exitCode !== null)
        throw new Error(
          `agent exited (${this.child.exitCode}) before "${name}": ${this.stderr}${this.dump()}`,
        );
      if (Date.now() > deadline) throw new Error(`no "${name}" within ${timeoutMs} ms:${this.dump()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  dump(): string {
    return `\n${this.lines.map((l) => JSON.stringify(l)).join('\n')}`;
  }

  /** SIGTERM, then the exit code (SIGKILL after `timeoutMs`, and the test fails on the null). */
  async terminate(timeoutMs = 20_000): Promise<number | null> {
    if (this.child.exitCode !== null) return this.child.exitCode;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}

/** GET http://127.0.0.1:PORT/PATH as text (status, content type and body), with request headers if given. */
export async function httpGet(
  url: string,
  timeoutMs = 5000,
  headers: Record<string, string> = {},
): Promise<{ status: number; contentType: string; body: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers });
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', body: await res.text() };
}

/** The Accept header Prometheus 2.x scrapes with by default. */
export const PROMETHEUS_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

/** The value of one series in exposition text: `name{labels}` matched by name and label subset. */
export function seriesValue(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

export function scratchDir(prefix: string): { dir: string; dispose(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}
