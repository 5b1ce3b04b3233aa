import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import { Worker } from 'node:worker_threads';
import { Labels } from '../labels';
import { hostId } from '../lock/process';
import { silentLogger, type Logger } from '../log';
import type { Endpoint } from './endpoint';
import { proxyWorker } from './ownershipProxyWorker';

/**
 * A Docker endpoint of a run's own: a unix socket in a private folder that forwards every byte
 * to the real endpoint and stamps the run's labels onto the JSON body of each container,
 * network and volume create. Every client that honours DOCKER_HOST (docker CLI, compose,
 * dockerode, testcontainers) is then attributed exactly, and the daemon itself carries the
 * ownership once the run's process is gone. Objects created on the real socket are never
 * stamped, whoever creates them and whenever.
 *
 * Only request heads are parsed, and only create bodies (and exec-start bodies, to learn
 * whether the connection is hijacked) are buffered; responses, streams (logs -f, events,
 * stats) and hijacked or upgraded connections (attach, exec) pass through untouched, half
 * closes included.
 *
 * The proxy runs in a worker thread: a test suite in the same process (a mocha global setup)
 * may block its own event loop on a synchronous `docker` child process, which would otherwise
 * wait forever for a proxy that cannot answer.
 */

export interface OwnershipProxyOptions {
  /** The real daemon (unix, npipe, tcp or tcp+TLS; ssh is not forwarded). */
  endpoint: Endpoint;
  runId: string;
  /** More labels to stamp beside the owner's (run id, pid, host identity). */
  labels?: Record<string, string>;
  logger?: Logger;
}

export interface OwnershipProxy {
  /** `unix://<socket>`: the value to hand to the run's command as DOCKER_HOST. */
  readonly dockerHost: string;
  readonly socketPath: string;
  /** What every create through the proxy carries. */
  readonly labels: Readonly<Record<string, string>>;
  /** Stops accepting, cuts open connections, removes the socket and its folder. */
  close(): Promise<void>;
}

/** The labels that say which run, which process and which pid space own a resource. */
export function ownerLabels(runId: string, pid: number = process.pid): Record<string, string> {
  return { [Labels.runId]: runId, [Labels.runPid]: String(pid), [Labels.runHost]: hostId() };
}

/** How the worker reaches the real daemon: plain socket options or TLS ones, all serialisable. */
export type Upstream =
  | { tls: false; options: { path?: string; host?: string; port?: number } }
  | { tls: true; options: ConnectionOptions };

export interface WorkerData {
  socketPath: string;
  upstream: Upstream;
  endpointHost: string;
  labels: Record<string, string>;
}

export type WorkerMessage = { listening: true } | { error: string } | { closed: true } | { debug: string };

const CLOSE_TIMEOUT_MS = 5000;
/** Leaves room for `/dstab-proxy-XXXXXX/docker.sock` within a unix socket path's 107 bytes. */
const MAX_SOCKET_DIR_LENGTH = 80;

/**
 * The folder the proxy's private socket folder goes into. A unix socket path holds at most 107
 * bytes: a long TMPDIR (CI runners) falls back to /tmp. Windows has no such bound and no /tmp.
 */
export function proxySocketBase(tmp: string, platform: NodeJS.Platform = process.platform): string {
  return platform !== 'win32' && tmp.length > MAX_SOCKET_DIR_LENGTH ? '/tmp' : tmp;
}

export async function startOwnershipProxy(opts: OwnershipProxyOptions): Promise<OwnershipProxy> {
  if (typeof opts.runId !== 'string' || opts.runId.trim() === '') throw new Error('runId must not be empty');
  const upstream = upstreamOf(opts.endpoint);
  const logger = opts.logger ?? silentLogger;
  const labels = { ...opts.labels, ...ownerLabels(opts.runId) };
  // mkdtemp creates the folder 0700: no other user can connect to the socket or replace it.
  const base = proxySocketBase(tmpdir());
  const dir = await fsp.mkdtemp(join(base, 'dstab-proxy-'));
  await fsp.chmod(dir, 0o700);
  const socketPath = join(dir, 'docker.sock');
  const data: WorkerData = { socketPath, upstream, endpointHost: opts.endpoint.host, labels };
  const worker = new Worker(`(${proxyWorker.toString()})()`, { eval: true, workerData: data });
  // The run's own lifetime decides; a forgotten proxy must not keep the process alive.
  worker.unref();
  let onClosed: (() => void) | undefined;
  let listening = false;
  const ready = new Promise<void>((resolve, reject) => {
    // Failures after start-up are logged: an 'error' event without a listener would throw in
    // the run's own process.
    const fail = (err: Error): void => (listening ? logger.warn(err.message) : reject(err));
    worker.on('message', (m: WorkerMessage) => {
      if ('listening' in m) {
        listening = true;
        resolve();
      } else if ('error' in m) fail(new Error(`ownership proxy: ${m.error}`));
      else if ('closed' in m) onClosed?.();
      else logger.debug(m.debug);
    });
    worker.on('error', (err) => fail(new Error(`ownership proxy: ${err.message}`)));
    worker.once('exit', () => {
      if (!listening) reject(new Error('ownership proxy: worker exited'));
      onClosed?.();
    });
  });
  try {
    await ready;
  } catch (err) {
    await worker.terminate();
    await fsp.rm(dir, { recursive: true, force: true });
    throw err;
  }
  let closing: Promise<void> | undefined;
  return {
    dockerHost: `unix://${socketPath}`,
    socketPath,
    labels,
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, CLOSE_TIMEOUT_MS);
          onClosed = () => {
            clearTimeout(t);
            resolve();
          };
          worker.postMessage('close');
        });
        await worker.terminate();
        await fsp.rm(dir, { recursive: true, force: true });
      })();
      return closing;
    },
  };
}

/** How to reach the real daemon, from the resolved endpoint alone. */
function upstreamOf(ep: Endpoint): Upstream {
  switch (ep.protocol) {
    case 'unix':
    case 'npipe':
      if (!ep.socketPath) throw new Error(`endpoint ${ep.host} has no socket path`);
      return { tls: false, options: { path: ep.socketPath } };
    case 'http':
      return { tls: false, options: { host: ep.hostname, port: ep.port ?? 2375 } };
    case 'https':
      return {
        tls: true,
        options: {
          host: ep.hostname,
          port: ep.port ?? 2376,
          servername: ep.hostname,
          ca: ep.tls?.ca,
          cert: ep.tls?.cert,
          key: ep.tls?.key,
          rejectUnauthorized: ep.tls?.verify ?? true,
        },
      };
    default:
      throw new Error(
        `the ownership proxy cannot forward to ${ep.host} (${ep.protocol} endpoints are not supported)`,
      );
  }
}
