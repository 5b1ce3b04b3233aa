import { randomBytes } from 'node:crypto';
import type Docker from 'dockerode';
import { DockerClient } from '../../src/core/docker/client';
import { resolveEndpoint } from '../../src/core/docker/endpoint';

/** The busybox image scripts/setup-docker.sh builds locally (nothing can be pulled here). */
export const TEST_IMAGE = process.env.DOCKER_STABILITY_TEST_IMAGE ?? 'docker-stability-test/busybox:1';
/** Every resource a test creates carries this label, valued with the fixture's unique id. */
export const TEST_LABEL = 'docker-stability.test-fixture';

export function testClient(timeoutMs = 10_000): DockerClient {
  return new DockerClient(resolveEndpoint(), { timeoutMs });
}

/** A removal whose failure leaves the resource in place (the next pass tries again). */
const leaveFailed = (removal: Promise<unknown>): Promise<unknown> => removal.catch(() => undefined);

/**
 * Force-removes every container (running or not) carrying `label` (`key` or `key=value`) and
 * matching the other `filters` (e.g. `name`); a failed removal is left.
 */
export async function removeContainersLabelled(
  label: string,
  filters: Record<string, string[]> = {},
): Promise<void> {
  const api = testClient().api;
  const ours = await api.listContainers({ all: true, filters: { ...filters, label: [label] } });
  await Promise.all(ours.map((c) => leaveFailed(api.getContainer(c.Id).remove({ force: true }))));
}

/** removeContainersLabelled(), then the networks and the volumes carrying `label`; a failed removal is left. */
export async function removeAllLabelled(label: string): Promise<void> {
  await removeContainersLabelled(label);
  const api = testClient().api;
  const filters = { label: [label] };
  const networks = await api.listNetworks({ filters });
  await Promise.all(networks.map((n) => leaveFailed(api.getNetwork(n.Id).remove())));
  const volumes = (await api.listVolumes({ filters })).Volumes ?? [];
  await Promise.all(volumes.map((v) => leaveFailed(api.getVolume(v.Name).remove())));
}

export interface ContainerSpec {
  /** Command run by busybox, e.g. ['sleep', '3600']. Default: sleep for an hour. */
  cmd?: string[];
  labels?: Record<string, string>;
  name?: string;
  start?: boolean;
  /** Volume mounts as `volumeName:/path`. */
  binds?: string[];
  memoryBytes?: number;
  /** Leave `network none` (the default); set to attach to a created network instead. */
  network?: string;
}

/**
 * Creates labelled Docker resources for one test and removes exactly those afterwards.
 * Containers run with no network (`--network none`) and busybox's init-less sleep is
 * stopped with a 1 s timeout (it ignores SIGTERM as PID 1).
 */
export class DockerFixture {
  readonly id = `t${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  readonly client: DockerClient;
  readonly api: Docker;

  constructor(client: DockerClient = testClient()) {
    this.client = client;
    this.api = client.api;
  }

  get labels(): Record<string, string> {
    return { [TEST_LABEL]: this.id };
  }

  /** A unique name with the fixture id in it. */
  name(suffix: string): string {
    return `dstab-${this.id}-${suffix}`;
  }

  async container(spec: ContainerSpec = {}): Promise<Docker.Container> {
    const c = await this.api.createContainer({
      Image: TEST_IMAGE,
      Cmd: spec.cmd ?? ['sleep', '3600'],
      name: spec.name,
      Labels: { ...this.labels, ...spec.labels },
      HostConfig: {
        NetworkMode: spec.network ?? 'none',
        Init: true,
        Binds: spec.binds,
        Memory: spec.memoryBytes,
      },
      StopTimeout: 1,
    });
    if (spec.start !== false) await c.start();
    return c;
  }

  async network(
    name = this.name(`net-${randomBytes(2).toString('hex')}`),
    labels: Record<string, string> = {},
  ): Promise<Docker.Network> {
    return this.api.createNetwork({
      Name: name,
      Labels: { ...this.labels, ...labels },
      Internal: true,
      IPAM: { Config: [{ Subnet: randomSubnet() }] },
    });
  }

  async volume(
    name = this.name(`vol-${randomBytes(2).toString('hex')}`),
    labels: Record<string, string> = {},
  ): Promise<string> {
    await this.api.createVolume({ Name: name, Labels: { ...this.labels, ...labels } });
    return name;
  }

  /** Removes every container, network and volume carrying this fixture's label, in that order. */
  async cleanup(): Promise<void> {
    const filters = { label: [`${TEST_LABEL}=${this.id}`] };
    const containers = await this.api.listContainers({ all: true, filters });
    await Promise.all(
      containers.map((c) =>
        this.api.getContainer(c.Id).remove({ force: true, v: false }).catch(ignoreNotFound),
      ),
    );
    const networks = await this.api.listNetworks({ filters });
    await Promise.all(networks.map((n) => this.api.getNetwork(n.Id).remove().catch(ignoreNotFound)));
    const volumes = (await this.api.listVolumes({ filters })).Volumes ?? [];
    await Promise.all(volumes.map((v) => this.api.getVolume(v.Name).remove().catch(ignoreNotFound)));
  }
}

/**
 * A random /28 outside Docker's default address pools: the pools hold only about 31 networks
 * (moby #23971), which suites running side by side exhaust. Internal networks: no traffic.
 */
export function randomSubnet(): string {
  const r = randomBytes(3);
  return `10.${128 + ((r[0] as number) & 127)}.${r[1] as number}.${((r[2] as number) & 15) * 16}/28`;
}

function ignoreNotFound(err: unknown): void {
  const code = (err as { statusCode?: number }).statusCode;
  if (code !== 404 && code !== 409) throw err;
}
