import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import type { ContainerSpec } from '../../helpers/docker';
import { DockerFixture, TEST_IMAGE, randomSubnet, testClient } from '../../helpers/docker';
import { startOwnershipProxy } from '../../../src/core/docker/ownershipProxy';
import { Labels } from '../../../src/core/labels';
import { hostId } from '../../../src/core/lock/process';
import { mapLimit } from '../../../src/core/util/pool';

/** Parallel Docker calls while building: enough to overlap round trips, few enough for 2 cores. */
const BUILD_CONCURRENCY = 6;

export type Key = `${'container' | 'network' | 'volume'}/${string}`;

/**
 * The mixed fixture: every category it names, each resource tagged with whether a
 * cleanup pass (no age floor, scoped to this fixture) must remove it. All resources carry the
 * fixture's label, so a pass scoped to it never sees anyone else's resources.
 */
export class MixedFixture {
  // Generous call timeouts: container starts take seconds on a loaded shared daemon.
  readonly f = new DockerFixture(testClient(60_000));
  readonly run = { 'docker-stability.run-id': `run-${this.f.id}` };
  readonly remove = new Set<Key>();
  readonly keep = new Set<Key>();
  /** Key -> the reason the pass must give for keeping it (a pattern), for the interesting cases. */
  readonly keepReasons = new Map<Key, RegExp>();
  /** Key -> the reason the pass must give for removing it, likewise. */
  readonly removeReasons = new Map<Key, RegExp>();
  readonly composeProject = `p${this.f.id}-test`;
  /**
   * Anonymous volumes of fixture containers (they carry no label, so label filters never list
   * them): name -> whether the pass removes it. Those of removed containers are in `remove`
   * too; those of kept containers are never even considered, and must survive.
   */
  readonly anonymous = new Map<string, boolean>();
  private readonly dirs: string[] = [];
  private readonly images: string[] = [];

  get scope(): Record<string, string> {
    return this.f.labels;
  }

  get size(): number {
    return this.remove.size + this.keep.size;
  }

  private note(key: Key, goes: boolean, reason?: RegExp): void {
    (goes ? this.remove : this.keep).add(key);
    if (reason) (goes ? this.removeReasons : this.keepReasons).set(key, reason);
  }

  async volume(labels: Record<string, string>, goes: boolean, reason?: RegExp): Promise<string> {
    const name = await this.f.volume(undefined, labels);
    this.note(`volume/${name}`, goes, reason);
    return name;
  }

  async network(labels: Record<string, string>, goes: boolean, reason?: RegExp): Promise<string> {
    const name = this.f.name(
      `net-${this.remove.size + this.keep.size}-${Math.random().toString(36).slice(2, 6)}`,
    );
    const n = await createNetworkOffPool(this.f, name, labels);
    this.note(`network/${n}`, goes, reason);
    return name;
  }

  /**
   * A container in the given state: `exited` runs `true` to completion, `created` is never
   * started, `running` sleeps, `paused` sleeps paused.
   */
  async container(
    state: 'exited' | 'created' | 'running' | 'paused',
    spec: ContainerSpec & { image?: string; anonymousVolume?: boolean },
    goes: boolean,
    reason?: RegExp,
  ): Promise<string> {
    const c = await this.f.api.createContainer({
      Image: spec.image ?? TEST_IMAGE,
      Cmd: state === 'exited' ? ['true'] : ['sleep', '3600'],
      Labels: { ...this.f.labels, ...spec.labels },
      Volumes: spec.anonymousVolume ? { '/anon': {} } : undefined,
      HostConfig: { NetworkMode: spec.network ?? 'none', Init: true, Binds: spec.binds },
      StopTimeout: 1,
    });
    if (state !== 'created') await c.start();
    if (spec.anonymousVolume) {
      const name = (await c.inspect()).Mounts.find((m) => m.Destination === '/anon')?.Name as string;
      this.anonymous.set(name, goes);
      if (goes) this.remove.add(`volume/${name}`);
    }
    if (state === 'exited') await c.wait();
    if (state === 'paused') await c.pause();
    this.note(`container/${c.id}`, goes, reason);
    return c.id;
  }

  /** Builds every category; returns once all resources exist and stopped ones have exited. */
  async build(): Promise<void> {
    const run = this.run;
    const protect = { ...run, 'docker-stability.protect': 'true' };
    const session = (s: string) => ({ 'org.testcontainers.session-id': `${s}-${this.f.id}` });
    const ryuk = (s: string) => ({ ...session(s), 'org.testcontainers.ryuk': 'true' });

    // Volumes and networks first: containers refer to them.
    const [volRunning, volUnownedUser, volFreed, netUnowned, netRunning, netFreed] = await Promise.all([
      this.repeat(3, () => this.volume(run, false, /^mounted by .*\(running\)/)),
      this.repeat(3, () => this.volume(run, false, /^mounted by .*\(exited\)/)),
      this.repeat(3, () => this.volume(run, true)),
      this.repeat(2, () => this.network(run, false, /^attached to .*\((created|exited)\)/)),
      this.repeat(2, () => this.network(run, false, /^attached to .*\(running\)/)),
      this.repeat(2, () => this.network(run, true)),
      this.repeat(12, () => this.volume(run, true)),
      this.repeat(6, () => this.volume({}, false, /^not owned by a test run$/)),
      this.repeat(2, () => this.volume(protect, false, /^protected by docker-stability\.protect=true$/)),
      this.repeat(2, () => this.network(protect, false, /^protected by/)),
      this.repeat(10, () => this.network(run, true)),
      this.repeat(2, () => this.network({}, false, /^not owned by a test run$/)),
      this.volume(session('alive'), false, /has a live reaper/),
      this.network(session('alive'), false, /has a live reaper/),
      this.volume(session('dead'), true),
      this.network(session('dead'), true),
    ]);
    const binds = (vols: string[]) => vols.map((v) => `${v}:/data/${v}`);

    const jobs: Array<() => Promise<unknown>> = [
      // owned stopped: removed (exited and never started)
      ...times(4, () => () => this.container('exited', { labels: run }, true)),
      ...times(26, () => () => this.container('created', { labels: run }, true)),
      // owned running and paused: kept
      ...times(3, () => () => this.container('running', { labels: run }, false, /^running$/)),
      () => this.container('running', { labels: run, binds: binds(volRunning) }, false, /^running$/),
      () => this.container('paused', { labels: run }, false, /^paused$/),
      // unowned stopped: kept; one mounts owned volumes, so those stay too
      ...times(9, () => () => this.container('created', {}, false, /^not owned by a test run$/)),
      () => this.container('exited', { binds: binds(volUnownedUser) }, false, /^not owned/),
      // owned stopped containers that alone mount owned volumes: both go, containers first
      () => this.container('exited', { labels: run, binds: binds(volFreed) }, true),
      // protected stopped containers of our run
      ...times(3, () => () => this.container('created', { labels: protect }, false, /^protected by/)),
      // testcontainers session with a live reaper: all kept
      () => this.container('running', { labels: ryuk('alive') }, false, /reaper \(never removed\)/),
      ...times(
        5,
        () => () => this.container('created', { labels: session('alive') }, false, /has a live reaper/),
      ),
      // session whose reaper is gone (stopped): its containers go, the reaper and reuse containers stay
      () => this.container('created', { labels: ryuk('dead') }, false, /reaper \(never removed\)/),
      ...times(5, () => () => this.container('created', { labels: session('dead') }, true)),
      () =>
        this.container(
          'exited',
          { labels: { ...session('dead'), 'org.testcontainers.container-hash': 'h' } },
          false,
          /reusable container/,
        ),
      // networks attached to a kept container (stopped unowned, running owned) stay; attached only
      // to removed containers they go
      ...netUnowned.map((n) => () => this.container('created', { network: n }, false, /^not owned/)),
      ...netRunning.map(
        (n) => () => this.container('running', { labels: run, network: n }, false, /^running$/),
      ),
      ...netFreed.map((n) => () => this.container('created', { labels: run, network: n }, true)),
      // compose project not named like a test project: kept
      ...times(
        3,
        () => () =>
          this.container(
            'exited',
            { labels: { 'com.docker.compose.project': `p${this.f.id}` } },
            false,
            /is not a test project/,
          ),
      ),
    ];
    await Promise.all([
      mapLimit(jobs, BUILD_CONCURRENCY, (job) => job()),
      this.composeTestProject(),
      this.traps(),
    ]);
  }

  /**
   * The traps: things the old rules took that are not a test run's, and orphans they
   * missed. Colleague's volumes created on the real socket at the same moment as a run's own
   * (through its real DOCKER_HOST proxy), image-inherited ownership labels, anonymous volumes
   * of kept containers, a project whose `-test` name is its folder's, a run killed with its
   * containers running (its pid dead on this host), a dead testcontainers session inside and
   * outside that run.
   */
  private async traps(): Promise<void> {
    const id = this.f.id;
    // A pid that was alive a moment ago and is dead now, as a killed run's is.
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid;
    const killed = {
      [Labels.runId]: `killed-${id}`,
      [Labels.runPid]: String(deadPid),
      [Labels.runHost]: hostId(),
    };
    const deadSession = { 'org.testcontainers.session-id': `tc-dead-${id}` };
    const gone =
      /^(running|paused) container of run killed-\S+ \(its own run label\), whose process is gone \(its process, pid \d+ on this host \(label\), is dead\): stopped, then removed$/;

    // A run's volumes through its own endpoint, and a colleague's on the real socket, at once.
    const proxy = await startOwnershipProxy({ endpoint: this.f.client.endpoint, runId: `trap-${id}` });
    try {
      const viaRun = new Docker({ socketPath: proxy.socketPath });
      await Promise.all([
        this.repeat(8, async () => {
          const name = this.f.name(`runvol-${Math.random().toString(36).slice(2, 8)}`);
          await viaRun.createVolume({ Name: name, Labels: this.f.labels });
          this.note(`volume/${name}`, true);
        }),
        this.repeat(8, () => this.volume({}, false, /^not owned by a test run$/)),
      ]);
    } finally {
      await proxy.close();
    }

    const image = await this.imageWithOwnershipLabels();
    const [killedNet, killedVol] = await Promise.all([this.network(killed, true), this.volume(killed, true)]);
    const jobs: Array<() => Promise<unknown>> = [
      // labels inherited from the image own nothing; a run label set on the container does
      ...times(
        6,
        () => () =>
          this.container('exited', { image }, false, /comes from its image's LABEL, which owns nothing$/),
      ),
      ...times(2, () => () => this.container('created', { image, labels: this.run }, true)),
      // anonymous volumes: of removed containers they go, of kept ones they are never touched
      ...times(4, () => () => this.container('exited', { labels: this.run, anonymousVolume: true }, true)),
      ...times(
        4,
        () => () => this.container('exited', { anonymousVolume: true }, false, /^not owned by a test run$/),
      ),
      ...times(
        2,
        () => () =>
          this.container('running', { labels: this.run, anonymousVolume: true }, false, /^running$/),
      ),
      // a killed run's running (and paused) containers are orphans; its protected ones stay
      ...times(5, () => () => this.container('running', { labels: killed }, true, gone)),
      () =>
        this.container(
          'running',
          { labels: killed, network: killedNet, binds: [`${killedVol}:/data`] },
          true,
          gone,
        ),
      () => this.container('paused', { labels: killed }, true, gone),
      ...times(
        2,
        () => () =>
          this.container(
            'running',
            { labels: { ...killed, 'docker-stability.protect': 'true' } },
            false,
            /^protected by/,
          ),
      ),
      // a dead pid recorded in another pid space proves nothing here; a live pid, nothing either
      ...times(
        2,
        () => () =>
          this.container(
            'running',
            { labels: { ...killed, [Labels.runHost]: 'elsewhere/boot/4026531836' } },
            false,
            /^running$/,
          ),
      ),
      ...times(
        2,
        () => () =>
          this.container(
            'running',
            { labels: { ...killed, [Labels.runId]: `alive-${id}`, [Labels.runPid]: String(process.pid) } },
            false,
            /^running$/,
          ),
      ),
      // a dead testcontainers session: inside the killed run its containers go; outside any
      // run nothing says its process is gone, so running ones stay
      ...times(
        4,
        () => () => this.container('running', { labels: { ...killed, ...deadSession } }, true, gone),
      ),
      ...times(
        3,
        () => () =>
          this.container(
            'running',
            { labels: { 'org.testcontainers.session-id': `tc-norun-${id}` } },
            false,
            /^running$/,
          ),
      ),
    ];
    await Promise.all([mapLimit(jobs, BUILD_CONCURRENCY, (job) => job()), this.folderTestProject()]);
  }

  /** An image whose LABEL lines carry every ownership label (a test image built by a run, say). */
  private async imageWithOwnershipLabels(): Promise<string> {
    const c = await this.f.container({ start: false });
    const labels = {
      ...this.f.labels,
      [Labels.runId]: `image-${this.f.id}`,
      'com.docker.compose.project': `img${this.f.id}-test`,
      'com.docker.compose.project.working_dir': '/ci/checkout',
      'org.testcontainers.session-id': `img-${this.f.id}`,
    };
    const r = (await c.commit({
      repo: `dstab-trap-${this.f.id}`,
      tag: 'labelled',
      changes: Object.entries(labels).map(([k, v]) => `LABEL ${k}="${v}"`),
    })) as { Id: string };
    this.images.push(r.Id);
    await c.remove();
    return r.Id;
  }

  /**
   * A real docker-compose v1 test project (`up --no-start`, explicit `-p`): two services in
   * `created` state on a project network with a project volume, all labelled by compose itself.
   * Everything goes.
   */
  private async composeTestProject(): Promise<void> {
    const dir = mkdtempSync(join(tmpdir(), 'dstab-compose-'));
    this.dirs.push(dir);
    await this.composeProjectIn(dir, this.composeProject, true);
  }

  /**
   * A project named by its folder `d<id>-test` (no `-p`): the name matches `*-test`, but only
   * because of the folder, so nothing of it goes.
   */
  private async folderTestProject(): Promise<void> {
    const dir = join(mkdtempSync(join(tmpdir(), 'dstab-compose-')), `d${this.f.id}-test`);
    mkdirSync(dir);
    this.dirs.push(join(dir, '..'));
    await this.composeProjectIn(dir, undefined, false);
  }

  private async composeProjectIn(dir: string, project: string | undefined, goes: boolean): Promise<void> {
    const label = Object.entries(this.scope)
      .map(([k, v]) => `      ${k}: "${v}"`)
      .join('\n');
    const file = join(dir, 'docker-compose.yml');
    writeFileSync(
      file,
      [
        'version: "2.4"',
        'services:',
        ...['app', 'db'].flatMap((s) => [
          `  ${s}:`,
          `    image: ${TEST_IMAGE}`,
          '    command: ["sleep", "3600"]',
          '    init: true',
          '    networks: [net]',
          '    volumes: ["data:/data"]',
          '    labels:',
          label,
        ]),
        'networks:',
        '  net:',
        '    internal: true',
        `    ipam: { config: [{ subnet: "${randomSubnet()}" }] }`,
        '    labels:',
        label,
        'volumes:',
        '  data:',
        '    labels:',
        label,
        '',
      ].join('\n'),
    );
    const r = spawnSync(
      'docker-compose',
      [...(project ? ['-p', project] : []), '-f', file, 'up', '--no-start'],
      {
        encoding: 'utf8',
        cwd: dir,
      },
    );
    if (r.status !== 0) throw new Error(`docker-compose up --no-start failed: ${r.stderr}`);
    const name = project ?? `d${this.f.id}-test`;
    const filters = { label: [`com.docker.compose.project=${name}`] };
    const [cs, ns, vs] = await Promise.all([
      this.f.client.listContainers(filters),
      this.f.client.listNetworks(filters),
      this.f.client.listVolumes(filters),
    ]);
    if (cs.length !== 2 || ns.length !== 1 || vs.length !== 1)
      throw new Error(`compose created ${cs.length}/${ns.length}/${vs.length}`);
    const folder = goes ? undefined : /named after its folder/;
    for (const c of cs) this.note(`container/${c.Id}`, goes, folder);
    for (const n of ns) this.note(`network/${n.Id}`, goes, folder);
    for (const v of vs) this.note(`volume/${v.Name}`, goes, folder);
  }

  private repeat<T>(n: number, fn: () => Promise<T>): Promise<T[]> {
    return mapLimit(
      times(n, () => undefined),
      BUILD_CONCURRENCY,
      fn,
    );
  }

  async cleanup(): Promise<void> {
    for (const dir of this.dirs) rmSync(dir, { recursive: true, force: true });
    await this.f.cleanup();
    await Promise.all([
      ...[...this.anonymous.keys()].map((v) =>
        this.f.api
          .getVolume(v)
          .remove()
          .catch(() => undefined),
      ),
      ...this.images.map((i) =>
        this.f.api
          .getImage(i)
          .remove({ force: true })
          .catch(() => undefined),
      ),
    ]);
  }
}

/** A random /28 in 10.128.0.0/9, outside the daemon's default address pools. */

/**
 * Creates an internal network with an explicit /28 out of 10.128.0.0/9 instead of one from the
 * daemon's default pools, which hold only about 31 networks (moby #23971) shared by every suite
 * running on this daemon. No traffic ever crosses it. Retries on a clash with another subnet.
 */
async function createNetworkOffPool(
  f: DockerFixture,
  name: string,
  labels: Record<string, string>,
): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const subnet = randomSubnet();
    try {
      const n = await f.api.createNetwork({
        Name: name,
        Labels: { ...f.labels, ...labels },
        Internal: true,
        IPAM: { Driver: 'default', Config: [{ Subnet: subnet }] },
      });
      return n.id;
    } catch (err) {
      if (attempt >= 5 || !/overlap/i.test(String((err as Error).message))) throw err;
    }
  }
}

function times<T>(n: number, make: () => T): T[] {
  return Array.from({ length: n }, make);
}

/** `type/id` of a plan or report entry, comparable with the fixture's keys. */
export function keyOf(e: { type: string; id: string }): Key {
  return `${e.type}/${e.id}` as Key;
}
