import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface TlsMaterial {
  ca?: string;
  cert?: string;
  key?: string;
  /** false when the context says SkipTLSVerify or DOCKER_TLS_VERIFY is unset with tcp+certs. */
  verify: boolean;
}

export interface Endpoint {
  /** How it was found: `override`, `DOCKER_HOST`, `context <name>` or `default`. */
  source: string;
  /** The address as a user writes it: unix:///var/run/docker.sock, tcp://host:2376, npipe:////./pipe/docker_engine. */
  host: string;
  protocol: 'unix' | 'npipe' | 'http' | 'https' | 'ssh';
  socketPath?: string;
  hostname?: string;
  port?: number;
  username?: string;
  tls?: TlsMaterial;
  /** ssh only: the agent socket that authenticates (`SSH_AUTH_SOCK` when the endpoint was resolved). */
  sshAgent?: string;
}

export interface ResolveOptions {
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  home?: string;
  /** An explicit endpoint (setting or --host) wins over everything. */
  override?: string;
}

/**
 * Finds the daemon the way the docker CLI (and so the user's tests) would: an explicit
 * override, `DOCKER_HOST`, then the current context (`DOCKER_CONTEXT`, else
 * `currentContext` in the docker config), then the platform's default socket or pipe.
 */
export function resolveEndpoint(opts: ResolveOptions = {}): Endpoint {
  const env = opts.env ?? process.env;
  const ep = findEndpoint(opts, env);
  // The agent is the user's, not the endpoint's: read here, with the rest of the resolution,
  // so the client is handed everything it uses (and nothing read behind its back).
  return ep.protocol === 'ssh' && env.SSH_AUTH_SOCK ? { ...ep, sshAgent: env.SSH_AUTH_SOCK } : ep;
}

function findEndpoint(opts: ResolveOptions, env: NodeJS.ProcessEnv): Endpoint {
  const platform = opts.platform ?? process.platform;
  const home = opts.home ?? (env.HOME || env.USERPROFILE || homedir());
  const configDir = env.DOCKER_CONFIG || join(home, '.docker');

  if (opts.override && opts.override.trim()) {
    return parseHost(opts.override.trim(), 'override', tlsFromEnv(env, configDir));
  }
  if (env.DOCKER_HOST && env.DOCKER_HOST.trim()) {
    return parseHost(env.DOCKER_HOST.trim(), 'DOCKER_HOST', tlsFromEnv(env, configDir));
  }
  const contextName = env.DOCKER_CONTEXT || readCurrentContext(configDir);
  if (contextName && contextName !== 'default') {
    const fromContext = readContext(configDir, contextName);
    if (fromContext) return fromContext;
    throw new Error(`docker context "${contextName}" not found under ${join(configDir, 'contexts', 'meta')}`);
  }
  return platform === 'win32'
    ? parseHost('npipe:////./pipe/docker_engine', 'default')
    : parseHost('unix:///var/run/docker.sock', 'default');
}

function readCurrentContext(configDir: string): string | undefined {
  try {
    const cfg = JSON.parse(readFileSync(join(configDir, 'config.json'), 'utf8')) as {
      currentContext?: unknown;
    };
    return typeof cfg.currentContext === 'string' ? cfg.currentContext : undefined;
  } catch {
    return undefined;
  }
}

/** Contexts live in `contexts/meta/<sha256(name)>/meta.json`, TLS files in `contexts/tls/<sha256(name)>/docker/`. */
function readContext(configDir: string, name: string): Endpoint | undefined {
  const id = createHash('sha256').update(name).digest('hex');
  let meta: { Endpoints?: { docker?: { Host?: string; SkipTLSVerify?: boolean } } };
  try {
    meta = JSON.parse(readFileSync(join(configDir, 'contexts', 'meta', id, 'meta.json'), 'utf8'));
  } catch {
    return undefined;
  }
  const ep = meta.Endpoints?.docker;
  if (!ep?.Host) return undefined;
  const tlsDir = join(configDir, 'contexts', 'tls', id, 'docker');
  const tls = readTlsDir(tlsDir, ep.SkipTLSVerify !== true);
  return parseHost(ep.Host, `context ${name}`, tls);
}

function tlsFromEnv(env: NodeJS.ProcessEnv, configDir: string): TlsMaterial | undefined {
  const verify = !!env.DOCKER_TLS_VERIFY && env.DOCKER_TLS_VERIFY !== '0';
  const certPath = env.DOCKER_CERT_PATH || (verify ? configDir : undefined);
  if (!certPath) return undefined;
  return readTlsDir(certPath, verify);
}

function readTlsDir(dir: string, verify: boolean): TlsMaterial | undefined {
  const read = (f: string): string | undefined => {
    try {
      return readFileSync(join(dir, f), 'utf8');
    } catch {
      return undefined;
    }
  };
  const tls: TlsMaterial = { ca: read('ca.pem'), cert: read('cert.pem'), key: read('key.pem'), verify };
  return tls.ca || tls.cert || tls.key ? tls : undefined;
}

export function parseHost(host: string, source: string, tls?: TlsMaterial): Endpoint {
  let url: URL;
  try {
    url = new URL(host);
  } catch {
    throw new Error(
      `invalid Docker endpoint "${host}" (from ${source}): expected unix://, tcp://, npipe:// or ssh://`,
    );
  }
  switch (url.protocol) {
    case 'unix:':
      return { source, host, protocol: 'unix', socketPath: decodeURIComponent(url.pathname) };
    case 'npipe:': {
      // npipe:////./pipe/docker_engine -> \\.\pipe\docker_engine. Taken from the raw text: URL
      // parsing removes the `.` segment (pathname `//pipe/docker_engine`), losing the local host.
      const pipe = decodeURIComponent(host.slice('npipe:'.length)).replace(/^\/+/, '').replace(/\//g, '\\');
      return { source, host, protocol: 'npipe', socketPath: `\\\\${pipe}` };
    }
    case 'tcp:':
    case 'http:':
    case 'https:': {
      const secure = url.protocol === 'https:' || !!tls;
      return {
        source,
        host,
        protocol: secure ? 'https' : 'http',
        hostname: url.hostname,
        port: url.port ? Number(url.port) : secure ? 2376 : 2375,
        tls: secure ? tls : undefined,
      };
    }
    case 'ssh:':
      return {
        source,
        host,
        protocol: 'ssh',
        hostname: url.hostname,
        port: url.port ? Number(url.port) : 22,
        username: url.username || undefined,
      };
    default:
      throw new Error(`unsupported Docker endpoint "${host}" (from ${source})`);
  }
}

/** True when the endpoint is a socket on this machine, so the cgroup filesystem describes its containers. */
export function isLocalSocket(ep: Endpoint): boolean {
  return ep.protocol === 'unix' || ep.protocol === 'npipe';
}
