import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type Docker from 'dockerode';
import type { DockerClient } from '../../../src/core/docker/client';
import { LockManager } from '../../../src/core/lock';
import { RunStore } from '../../../src/core/runs/records';
import { TEST_IMAGE, testClient } from '../../helpers/docker';

/** The built CLI (npm test and test:core build it first). */
export const CLI = resolve(__dirname, '../../../../dist/cli.js');

/**
 * One test's world: its own DOCKER_STABILITY_HOME (run records), lock folder, and a container
 * name prefix. Containers are told apart by name, not by a label: cleanup adopts only
 * containers that carry no label of their own, so a test label would make them ineligible.
 */
export class RunWorld {
  readonly id = `r${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  readonly home = mkdtempSync(join(tmpdir(), 'ds-runs-'));
  readonly lockDir = join(this.home, 'locks');

  /** Every container of this world is named `<prefix>...`. */
  get prefix(): string {
    return `dstab-${this.id}-`;
  }

  /** Library options for a run of `category` kept inside this world (its lock folder and run records). */
  runOptions(
    category: string,
    client: DockerClient,
  ): { category: string; client: DockerClient; lock: LockManager; store: RunStore } {
    return {
      category,
      client,
      lock: new LockManager({ dir: this.lockDir }),
      store: new RunStore(join(this.home, 'runs.jsonl')),
    };
  }

  /** Writes a `--config` file into the home and returns its path. */
  config(value: unknown): string {
    const file = join(this.home, `config-${randomBytes(2).toString('hex')}.json`);
    writeFileSync(file, JSON.stringify(value));
    return file;
  }

  /**
   * A POSIX shell script (the user's side: the command under test) that creates `labelled`
   * containers carrying the run's label and `unlabelled` ones with no label at all, half of each
   * run to completion (exited) and the rest only created, all with no network.
   */
  leaveContainers(labelled: number, unlabelled: number): string {
    const lines: string[] = [];
    const make = (i: number, runLabel: boolean): string => {
      const verb = i % 2 === 0 ? 'run' : 'create';
      const lbl = runLabel ? ' --label "$DOCKER_STABILITY_RUN_LABEL"' : '';
      const name = `${this.prefix}$DOCKER_STABILITY_RUN_ID-${runLabel ? 'l' : 'u'}${i}`;
      return `docker ${verb} --network none --name ${name}${lbl} ${TEST_IMAGE} true >/dev/null`;
    };
    for (let i = 0; i < labelled; i++) lines.push(make(i, true));
    for (let i = 0; i < unlabelled; i++) lines.push(make(i, false));
    return ['set -e', ...lines].join('\n');
  }

  env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_STABILITY_HOME: this.home, ...extra };
    // A project name inherited from the developer's shell would change what runs export.
    delete env.COMPOSE_PROJECT_NAME;
    return env;
  }

  /** Containers of this world (all states). */
  async containers(api: Docker): Promise<Docker.ContainerInfo[]> {
    const all = await api.listContainers({ all: true, filters: { name: [this.prefix] } });
    return all.filter((c) => c.Names.some((n) => n.replace(/^\//, '').startsWith(this.prefix)));
  }

  /** Removes whatever this world left (only if a test failed midway) and its folder. */
  async dispose(api: Docker): Promise<void> {
    for (const c of await this.containers(api))
      await api
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => undefined);
    if (existsSync(this.home)) rmSync(this.home, { recursive: true, force: true });
  }
}

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts `docker-stability <args>` in a world; `done` resolves when it exits. */
export function startCli(
  world: RunWorld,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): { child: ChildProcess; done: Promise<Finished> } {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: world.env(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Finished>((res, rej) => {
    child.once('error', rej);
    child.once('close', (code, signal) => res({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

/** `docker-stability run --dir <world locks> <runArgs> -- <command>` to completion. */
export function run(
  world: RunWorld,
  runArgs: string[],
  command: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<Finished> {
  return startCli(world, ['run', '--dir', world.lockDir, ...runArgs, '--', ...command], env).done;
}

/** Polls until `check` is true or `timeoutMs` passes. */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Containers other processes created or destroyed between `since` and `until` (those not named
 * with `prefix`). The run's figures are daemon-wide, so on a daemon shared with activity
 * outside the lock a measurement can only be exact when this is empty.
 */
export async function othersActivity(
  api: Docker,
  prefix: string,
  since: Date,
  until: Date,
): Promise<string[]> {
  const stream = (await api.getEvents({
    since: Math.floor(since.getTime() / 1000),
    until: Math.ceil(until.getTime() / 1000),
    filters: { type: ['container'], event: ['create', 'destroy'] },
  })) as NodeJS.ReadableStream;
  let text = '';
  for await (const chunk of stream) text += chunk.toString();
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map(
      (l) => JSON.parse(l) as { Action: string; Actor: { ID: string; Attributes?: Record<string, string> } },
    )
    .filter((e) => !(e.Actor.Attributes?.name ?? '').startsWith(prefix))
    .map((e) => `${e.Action} ${e.Actor.Attributes?.name ?? e.Actor.ID.slice(0, 12)}`);
}

/** A suite's engine client and a fresh RunWorld per test, disposed of (with what it made) afterwards. */
export function runWorldSuite(): {
  readonly client: ReturnType<typeof testClient>;
  readonly world: RunWorld;
} {
  const s = { client: testClient(), world: undefined as unknown as RunWorld };
  beforeEach(() => {
    s.world = new RunWorld();
  });
  afterEach(async () => {
    await s.world.dispose(s.client.api);
  });
  return s;
}
