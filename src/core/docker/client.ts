import { userInfo } from 'node:os';
import Docker from 'dockerode';
import type { Endpoint } from './endpoint';

export const DEFAULT_CALL_TIMEOUT_MS = 5000;

/** The daemon could not be reached at all (as opposed to answering with an error). */
export class DockerUnreachableError extends Error {
  constructor(
    readonly endpoint: string,
    readonly reason: string,
  ) {
    super(`Docker is not reachable at ${endpoint}: ${reason}`);
    this.name = 'DockerUnreachableError';
  }
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ENOENT',
  'EACCES',
  'EPERM',
  'ETIMEDOUT',
  'ECONNRESET',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ABORT_ERR',
]);

/** A short reason for a failed connection: "connection refused", "timed out after 5000 ms"… */
export function describeConnectionError(err: unknown): string | undefined {
  const e = err as { code?: string; message?: string; statusCode?: number; name?: string };
  if (e?.statusCode !== undefined) return undefined; // the daemon answered
  switch (e?.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOENT':
      return 'socket not found';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied on the socket';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'connection reset';
    default:
      if (e?.code && CONNECTION_CODES.has(e.code)) return e.code;
      if (e?.name === 'AbortError' || /timeout|timed out|abort/i.test(e?.message ?? '')) return 'timed out';
      return undefined;
  }
}

/**
 * Every connection field of docker-modem, from the endpoint alone. docker-modem fills the
 * fields its options leave out from DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH,
 * DOCKER_PATH_PREFIX and DOCKER_CLIENT_TIMEOUT, and puts SSH_AUTH_SOCK over the options' ssh
 * agent: a `--host unix://…` with `DOCKER_HOST=tcp://…` in the environment reached the tcp
 * daemon while every message named the socket (issue 13).
 */
function dockerodeOptions(ep: Endpoint, timeoutMs: number | undefined): Docker.DockerOptions {
  const remote = !ep.socketPath;
  return {
    socketPath: ep.socketPath,
    host: remote ? ep.hostname : undefined,
    port: remote ? ep.port : undefined,
    protocol: remote ? (ep.protocol as 'http' | 'https' | 'ssh') : 'http',
    // ssh2 refuses a connection without a user; ssh itself logs in as the local one.
    username: ep.protocol === 'ssh' ? (ep.username ?? userInfo().username) : ep.username,
    ca: ep.tls?.ca,
    cert: ep.tls?.cert,
    key: ep.tls?.key,
    pathPrefix: undefined,
    timeout: timeoutMs,
    // The agent authenticates us to the named host; forwarding it would lend it to that host.
    sshOptions: ep.protocol === 'ssh' && ep.sshAgent ? { agent: ep.sshAgent } : {},
    agentForward: false,
  } as Docker.DockerOptions;
}

/**
 * A dockerode instance whose transport knows only the endpoint. docker-modem reads the rest of
 * the environment only when DOCKER_HOST is set, and throws on a malformed one or on missing
 * DOCKER_CERT_PATH files, so it is constructed with DOCKER_HOST out of sight. Synchronous:
 * no other code runs while the variable is away.
 */
function createApi(ep: Endpoint, timeoutMs: number | undefined): Docker {
  const opts = dockerodeOptions(ep, timeoutMs);
  const dockerHost = process.env.DOCKER_HOST;
  delete process.env.DOCKER_HOST;
  try {
    return new Docker(opts);
  } finally {
    if (dockerHost !== undefined) process.env.DOCKER_HOST = dockerHost;
  }
}

export interface CallOptions {
  timeoutMs?: number;
}

/**
 * dockerode with a hard timeout on every call, so a dead or hung endpoint fails fast with a
 * DockerUnreachableError instead of hanging (vscode-remote-release #5100). Long-lived streams
 * (`/events`) use a second instance without the socket idle timeout.
 */
export class DockerClient {
  readonly api: Docker;
  private readonly streamApi: Docker;
  readonly timeoutMs: number;

  constructor(
    readonly endpoint: Endpoint,
    opts: { timeoutMs?: number } = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    this.api = createApi(endpoint, this.timeoutMs);
    this.streamApi = createApi(endpoint, undefined);
  }

  /**
   * Runs one API call under an AbortSignal and a timer. Connection failures and timeouts become
   * DockerUnreachableError; answers from the daemon (404, 409, 500) pass through unchanged.
   */
  async call<T>(
    what: string,
    fn: (api: Docker, signal: AbortSignal) => Promise<T>,
    opts: CallOptions = {},
  ): Promise<T> {
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    const ac = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        ac.abort();
        reject(new DockerUnreachableError(this.endpoint.host, `${what} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
    });
    try {
      return await Promise.race([fn(this.api, ac.signal), timeout]);
    } catch (err) {
      if (err instanceof DockerUnreachableError) throw err;
      const reason = describeConnectionError(err);
      if (reason) throw new DockerUnreachableError(this.endpoint.host, reason);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  async ping(opts?: CallOptions): Promise<void> {
    await this.call('ping', (api, abortSignal) => withSignal(api.ping.bind(api))(abortSignal), opts);
  }

  info(opts?: CallOptions): Promise<DaemonInfo> {
    return this.call(
      'info',
      (api, abortSignal) => withSignal<DaemonInfo>(api.info.bind(api))(abortSignal),
      opts,
    );
  }

  /** Which daemon answers at this endpoint now (one `/info` call). */
  async identity(opts?: CallOptions): Promise<DaemonIdentity> {
    return daemonIdentity(await this.info(opts), this.endpoint.host);
  }

  version(opts?: CallOptions): Promise<Docker.DockerVersion> {
    return this.call(
      'version',
      (api, abortSignal) => withSignal<Docker.DockerVersion>(api.version.bind(api))(abortSignal),
      opts,
    );
  }

  /** All containers, never with sizes (`size=true` walks every layer: moby #33036). */
  listContainers(filters?: Record<string, string[]>, opts?: CallOptions): Promise<Docker.ContainerInfo[]> {
    return this.call(
      'list containers',
      (api, abortSignal) => api.listContainers({ all: true, size: false, filters, abortSignal }),
      opts,
    );
  }

  listNetworks(filters?: Record<string, string[]>, opts?: CallOptions): Promise<Docker.NetworkInspectInfo[]> {
    return this.call('list networks', (api, abortSignal) => api.listNetworks({ filters, abortSignal }), opts);
  }

  async listVolumes(
    filters?: Record<string, string[]>,
    opts?: CallOptions,
  ): Promise<Docker.VolumeInspectInfo[]> {
    const r = await this.call(
      'list volumes',
      (api, abortSignal) => api.listVolumes({ filters, abortSignal }),
      opts,
    );
    return r.Volumes ?? [];
  }

  /**
   * `/system/df`: the daemon's disk accounting. Expensive (it sizes every container's writable
   * layer and every volume), so it has its own, longer timeout and is called rarely.
   */
  systemDf(opts: CallOptions = {}): Promise<SystemDf> {
    return this.call('system df', (api, abortSignal) => withSignal<SystemDf>(api.df.bind(api))(abortSignal), {
      timeoutMs: opts.timeoutMs ?? 60_000,
    });
  }

  /** One stats frame without waiting for a second sample (API >= 1.41 `one-shot`). */
  statsOneShot(id: string, opts?: CallOptions): Promise<Docker.ContainerStats> {
    return this.call(
      'container stats',
      (api, abortSignal) =>
        api.getContainer(id).stats({ stream: false, 'one-shot': true, abortSignal } as {
          stream: false;
        }) as Promise<Docker.ContainerStats>,
      opts,
    );
  }

  /**
   * Subscribes to `/events`. `onEvent` receives each decoded event; `onEnd` is called once
   * when the stream ends or fails. Returns a function that closes the stream. With `range.until`
   * (seconds since the epoch, fractions allowed) the daemon sends the past events and ends it.
   */
  async events(
    filters: Record<string, string[]>,
    onEvent: (e: DockerEvent) => void,
    onEnd: (err?: Error) => void,
    range: { since?: string; until?: string } = {},
  ): Promise<() => void> {
    const stream = (await this.call('events', (_api, abortSignal) =>
      this.streamApi.getEvents({ filters, abortSignal, ...range } as object),
    )) as NodeJS.ReadableStream & { destroy?: () => void };
    let buf = '';
    let ended = false;
    const end = (err?: Error): void => {
      if (ended) return;
      ended = true;
      onEnd(err);
    };
    stream.on('data', (chunk: Buffer) => {
      buf += chunk.toString('utf8');
      if (buf.length > MAX_EVENT_LINE && buf.indexOf('\n') < 0) {
        // A daemon (or something posing as one) that never ends a line must not fill memory.
        stream.destroy?.();
        end(
          new Error(
            `the daemon sent an event line longer than ${MAX_EVENT_LINE} bytes; events stream closed`,
          ),
        );
        buf = '';
        return;
      }
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (!line) continue;
        try {
          onEvent(JSON.parse(line) as DockerEvent);
        } catch {
          // a malformed line is skipped; the next relist corrects any missed change
        }
      }
    });
    stream.on('error', (err: Error) => end(err));
    stream.on('end', () => end());
    stream.on('close', () => end());
    return () => {
      ended = true;
      stream.destroy?.();
    };
  }
}

/** dockerode's typings omit the options argument these calls accept at runtime. */
function withSignal<T>(fn: unknown): (abortSignal: AbortSignal) => Promise<T> {
  return (abortSignal) => (fn as (opts: { abortSignal: AbortSignal }) => Promise<T>)({ abortSignal });
}

export interface DaemonInfo {
  /** The daemon's own ID, kept in its data root across restarts. */
  ID?: string;
  NCPU: number;
  MemTotal: number;
  ServerVersion?: string;
  OperatingSystem?: string;
  CgroupVersion?: string;
  CgroupDriver?: string;
  DockerRootDir?: string;
  Name?: string;
  [k: string]: unknown;
}

/**
 * A daemon as itself rather than by the address it was reached at: two addresses of one daemon
 * (a socket and a tcp port, a symlinked socket) share `id`, and one address that later leads to
 * another daemon (a new VM, a replaced socket) does not.
 */
/** Real events are under 2 KB; a longer line is refused rather than buffered. */
const MAX_EVENT_LINE = 1024 * 1024;

export interface DaemonIdentity {
  /** `/info` ID; `endpoint:<address>` for a daemon that reports none. */
  id: string;
  /** The address it was reached at, as the user wrote it. */
  endpoint: string;
  /** `/info` Name: the daemon's host name. */
  name?: string;
}

export function daemonIdentity(info: DaemonInfo, endpoint: string): DaemonIdentity {
  const id = typeof info.ID === 'string' && info.ID.trim() ? info.ID.trim() : `endpoint:${endpoint}`;
  return { id, endpoint, ...(typeof info.Name === 'string' && info.Name ? { name: info.Name } : {}) };
}

/** The parts of a `/system/df` answer the disk breakdown uses. */
export interface SystemDf {
  LayersSize?: number;
  Containers?: Array<{
    Id: string;
    SizeRw?: number;
    Names?: string[];
    Labels?: Record<string, string>;
  }> | null;
  Volumes?: Array<{ UsageData?: { Size?: number } | null }> | null;
  BuildCache?: Array<{ Size?: number; Shared?: boolean }> | null;
}

export interface DockerEvent {
  Type?: string;
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
  time?: number;
  timeNano?: number;
  [k: string]: unknown;
}

/** True for a 404 from the daemon (already gone: counts as done when removing). */
export function isNotFound(err: unknown): boolean {
  return (err as { statusCode?: number })?.statusCode === 404;
}
