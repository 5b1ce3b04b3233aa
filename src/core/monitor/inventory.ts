import type { DockerClient, DockerEvent } from '../docker/client';
import type { Logger } from '../log';
import { silentLogger } from '../log';

/** Networks every engine creates itself; they are not test load and use no address pool. */
const PREDEFINED_NETWORKS = new Set(['bridge', 'host', 'none']);

/** What the container list already says about a running container (no extra call for it). */
export interface RunningContainer {
  name: string;
  labels: Record<string, string>;
  /** The list's Status says its healthcheck has not decided yet ("Up 3 seconds (health: starting)"). */
  healthStarting?: boolean;
}

export interface InventoryCounts {
  containers: number;
  running: string[];
  /** Name and labels of each running container, by id, from the same list call. */
  details: ReadonlyMap<string, RunningContainer>;
  networks: number;
  volumes: number;
}

/** Docker lists names with a leading slash; a daemon (or a fake) may leave names or labels out. */
function describe(c: {
  Id: string;
  Names?: string[];
  Labels?: Record<string, string>;
  Status?: string;
}): RunningContainer {
  const name = c.Names?.[0]?.replace(/^\//, '');
  return {
    name: name || c.Id.slice(0, 12),
    labels: c.Labels ?? {},
    ...(c.Status?.includes('(health: starting)') ? { healthStarting: true } : {}),
  };
}

type Kind = 'containers' | 'networks' | 'volumes';

export interface InventoryOptions {
  /** Relist everything at least this often even when events say nothing changed. */
  fallbackPollMs?: number;
  logger?: Logger;
  /** Sees every container event the stream delivers (incidents are read from them). */
  onContainerEvent?: (e: DockerEvent) => void;
}

/**
 * Container, network and volume counts kept current by `/events` instead of polling: an event
 * marks its kind dirty and the next read relists only that kind (debounced by the sample
 * interval, as vscode-containers' RefreshManager does). The daemon's event replay buffer is
 * short, so every (re)connect relists everything; a slow fallback poll covers missed events.
 */
export class Inventory {
  private readonly dirty = new Set<Kind>(['containers', 'networks', 'volumes']);
  private counts: InventoryCounts = {
    containers: 0,
    running: [],
    details: new Map(),
    networks: 0,
    volumes: 0,
  };
  private lastFullListAt = 0;
  private closeEvents: (() => void) | undefined;
  private connecting = false;
  private disposed = false;
  private readonly fallbackPollMs: number;
  private readonly logger: Logger;
  private readonly onContainerEvent: ((e: DockerEvent) => void) | undefined;
  /** How many list calls were made, per kind (tests and benchmarks read it). */
  readonly listCalls: Record<Kind, number> = { containers: 0, networks: 0, volumes: 0 };
  eventsConnected = false;

  constructor(
    private readonly client: DockerClient,
    opts: InventoryOptions = {},
  ) {
    this.fallbackPollMs = opts.fallbackPollMs ?? 30_000;
    this.onContainerEvent = opts.onContainerEvent;
    this.logger = opts.logger ?? silentLogger;
  }

  /** Subscribes to events if not already; a failure leaves polling to the fallback. */
  async connect(): Promise<void> {
    if (this.closeEvents || this.connecting || this.disposed) return;
    this.connecting = true;
    try {
      const close = await this.client.events(
        { type: ['container', 'network', 'volume'] },
        (e) => this.onEvent(e),
        (err) => {
          this.closeEvents = undefined;
          this.eventsConnected = false;
          this.invalidate();
          if (!this.disposed) this.logger.debug(`events stream ended${err ? `: ${err.message}` : ''}`);
        },
      );
      if (this.disposed) {
        close();
        return;
      }
      this.closeEvents = close;
      this.eventsConnected = true;
      this.invalidate(); // anything may have changed while not listening
    } finally {
      this.connecting = false;
    }
  }

  /** Marks everything for relisting (after a reconnect or a daemon restart). */
  invalidate(): void {
    this.dirty.add('containers').add('networks').add('volumes');
  }

  private onEvent(e: DockerEvent): void {
    switch (e.Type) {
      case 'container':
        this.onContainerEvent?.(e);
        // exec_*, top, attach... do not change what exists or runs
        if (
          /^(create|destroy|start|die|kill|stop|pause|unpause|restart|oom|rename|health_status)/.test(
            e.Action ?? '',
          )
        ) {
          this.dirty.add('containers');
        }
        break;
      case 'network':
        if (e.Action === 'create' || e.Action === 'destroy') this.dirty.add('networks');
        // connect/disconnect change nothing we count
        break;
      case 'volume':
        if (e.Action === 'create' || e.Action === 'destroy') this.dirty.add('volumes');
        break;
    }
  }

  /** Current counts, relisting only what events (or the fallback poll) marked as changed. */
  async read(): Promise<InventoryCounts> {
    if (!this.eventsConnected || Date.now() - this.lastFullListAt > this.fallbackPollMs) this.invalidate();
    if (this.dirty.size === 0) return this.counts;
    const kinds = [...this.dirty];
    this.dirty.clear();
    try {
      const next = { ...this.counts };
      await Promise.all(
        kinds.map(async (k) => {
          this.listCalls[k]++;
          if (k === 'containers') {
            const list = await this.client.listContainers();
            next.containers = list.length;
            const running = list.filter((c) => c.State === 'running');
            next.running = running.map((c) => c.Id);
            next.details = new Map(running.map((c) => [c.Id, describe(c)]));
          } else if (k === 'networks') {
            const list = await this.client.listNetworks();
            next.networks = list.filter((n) => !PREDEFINED_NETWORKS.has(n.Name)).length;
          } else {
            next.volumes = (await this.client.listVolumes()).length;
          }
        }),
      );
      this.counts = next;
      if (kinds.length === 3) this.lastFullListAt = Date.now();
      return next;
    } catch (err) {
      for (const k of kinds) this.dirty.add(k);
      throw err;
    }
  }

  /** Closes the events stream but stays usable: the next sample reconnects (after an outage). */
  disconnect(): void {
    this.closeEvents?.();
    this.closeEvents = undefined;
    this.eventsConnected = false;
    this.invalidate();
  }

  dispose(): void {
    this.disposed = true;
    this.disconnect();
  }
}
