/**
 * What a service's image is, judged by its repository (never by a substring of its name:
 * PostgREST and postgres-exporter are not PostgreSQL), and what follows from that: the probe
 * that exists in the image, and the memory its own settings say it needs.
 */
import { isRecord } from './model';
import { parseComposeBytes, parsePostgresBytes } from './units';

export type ImageKind = 'postgres' | 'mysql' | 'mariadb' | 'redis' | 'mongo' | 'rabbitmq';

interface ImageFamily {
  kind: ImageKind;
  /** Repositories without registry, `library/` or tag. */
  repositories: string[];
  /** The image's entrypoint is the official one, which takes `postgres -c ...` as its command. */
  officialEntrypoint?: string[];
}

/** Add a repository here to give it the probe and rules of its kind. */
const FAMILIES: ImageFamily[] = [
  {
    kind: 'postgres',
    repositories: [
      'postgres',
      'postgis/postgis',
      'pgvector/pgvector',
      'timescale/timescaledb',
      'bitnami/postgresql',
    ],
    officialEntrypoint: ['postgres', 'postgis/postgis', 'pgvector/pgvector', 'timescale/timescaledb'],
  },
  {
    kind: 'mysql',
    repositories: ['mysql', 'mysql/mysql-server', 'bitnami/mysql', 'percona', 'percona/percona-server'],
  },
  { kind: 'mariadb', repositories: ['mariadb', 'bitnami/mariadb'] },
  // bitnami/redis is left out: it requires a password by default, so a bare ping cannot tell ready.
  { kind: 'redis', repositories: ['redis', 'redis/redis-stack', 'redis/redis-stack-server'] },
  { kind: 'mongo', repositories: ['mongo', 'mongodb/mongodb-community-server', 'bitnami/mongodb'] },
  { kind: 'rabbitmq', repositories: ['rabbitmq', 'bitnami/rabbitmq'] },
];

/**
 * Images known to need more than the standard memory limit whatever their settings say (a JVM
 * with a large default heap, SQL Server's 2 GB minimum, ...): without a figure from the service's
 * own settings, apply leaves their memory limit to the user rather than OOM-kill them.
 */
const HEAVY_REPOSITORIES = new Set([
  'elasticsearch',
  'elasticsearch/elasticsearch',
  'opensearchproject/opensearch',
  'logstash',
  'logstash/logstash',
  'sonarqube',
  'confluentinc/cp-kafka',
  'confluentinc/cp-server',
  'bitnami/kafka',
  'apache/kafka',
  'wurstmeister/kafka',
  'cassandra',
  'bitnami/cassandra',
  'neo4j',
  'mssql/server',
  'keycloak/keycloak',
  'jboss/keycloak',
  'jenkins/jenkins',
  'clickhouse/clickhouse-server',
  'gvenzl/oracle-xe',
  'gvenzl/oracle-free',
]);

export interface ImageRef {
  /** Lower case, without registry, `library/`, tag or digest: `postgres`, `postgis/postgis`. */
  repository: string;
  tag: string | undefined;
}

/** Parses an image reference; undefined when its repository holds a variable or is not a string. */
export function parseImageRef(image: unknown): ImageRef | undefined {
  if (typeof image !== 'string') return undefined;
  const ref = image.trim().split('@')[0] as string;
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  const tag = colon > slash ? ref.slice(colon + 1) : undefined;
  const parts = (colon > slash ? ref.slice(0, colon) : ref).toLowerCase().split('/');
  // The first component is a registry when it has a dot or a port, or is localhost (docker/distribution's rule).
  if (parts.length > 1 && /[.:]|^localhost$/.test(parts[0] as string)) parts.shift();
  if (parts.length > 1 && parts[0] === 'library') parts.shift();
  const repository = parts.join('/');
  if (repository === '' || repository.includes('$')) return undefined;
  return { repository, tag: tag === '' ? undefined : tag };
}

const refs = new Map<string, ImageRef | undefined>();

/**
 * parseImageRef for the rules, which ask it about the same image several times per service and
 * the same few images across the services of a large file (bounded; the result is shared, never
 * handed out).
 */
function imageRef(image: unknown): ImageRef | undefined {
  if (typeof image !== 'string') return undefined;
  if (refs.has(image)) return refs.get(image);
  const ref = parseImageRef(image);
  if (refs.size >= 1000) refs.clear();
  refs.set(image, ref);
  return ref;
}

export function imageKind(image: unknown): ImageKind | undefined {
  const ref = imageRef(image);
  return ref && FAMILIES.find((f) => f.repositories.includes(ref.repository))?.kind;
}

/** PostgreSQL whose entrypoint takes `postgres -c ...` as its command (the durable test settings). */
export function hasOfficialPostgresEntrypoint(image: unknown): boolean {
  const ref = imageRef(image);
  return (
    ref !== undefined &&
    FAMILIES.some((f) => f.kind === 'postgres' && f.officialEntrypoint?.includes(ref.repository))
  );
}

export function isHeavyImage(image: unknown): boolean {
  const ref = imageRef(image);
  return ref !== undefined && HEAVY_REPOSITORIES.has(ref.repository);
}

/**
 * `${VAR:-default}` and `${VAR-default}` replaced by their default (what runs when the variable is
 * unset); other variables stay as they are, so nothing is read into them.
 */
export function withDefaults(value: string): string {
  return value.replace(/\$\$|\$\{[A-Za-z_][A-Za-z0-9_]*:?-([^}$]*)\}/g, (m, def: string | undefined) =>
    m === '$$' ? m : (def ?? ''),
  );
}

/** The words of `command` and `entrypoint` (strings split on blanks, lists as they are). */
export function commandWords(service: Record<string, unknown>): string[] {
  const words: string[] = [];
  for (const key of ['entrypoint', 'command']) {
    const v = service[key];
    if (typeof v === 'string')
      words.push(
        ...withDefaults(v)
          .split(/\s+/)
          .filter((w) => w !== ''),
      );
    else if (Array.isArray(v))
      for (const w of v)
        if (typeof w === 'string' || typeof w === 'number') words.push(withDefaults(String(w)));
  }
  return words;
}

/** Environment values (mapping or `KEY=VALUE` list), variables with defaults resolved. */
export function environmentValues(service: Record<string, unknown>): Map<string, string> {
  const out = new Map<string, string>();
  const env = service.environment;
  if (isRecord(env)) {
    for (const [k, v] of Object.entries(env))
      if (typeof v === 'string' || typeof v === 'number') out.set(k, withDefaults(String(v)));
  } else if (Array.isArray(env)) {
    for (const item of env) {
      if (typeof item !== 'string') continue;
      const eq = item.indexOf('=');
      if (eq > 0) out.set(item.slice(0, eq), withDefaults(item.slice(eq + 1)));
    }
  }
  return out;
}

/** The value of `--name N`, `--name=N` (or a short `-x N`) among the words; undefined when absent. */
function optionValue(words: string[], names: string[]): string | undefined {
  let found: string | undefined;
  words.forEach((w, i) => {
    for (const n of names) {
      if (w === n && i + 1 < words.length) found = words[i + 1];
      else if (n.startsWith('--') && w.startsWith(`${n}=`)) found = w.slice(n.length + 1);
    }
  });
  return found;
}

const settingPatterns = new Map<string, RegExp>();

function settingValue(words: string[], name: RegExp): string | undefined {
  // Compiled once per setting name: a large check asks for the same few settings per service.
  let pattern = settingPatterns.get(name.source);
  if (!pattern) {
    pattern = new RegExp(`(?:^|^-c|^--)(?:${name.source})=(.+)$`);
    settingPatterns.set(name.source, pattern);
  }
  let found: string | undefined;
  for (const w of words) {
    const m = pattern.exec(w);
    if (m) found = m[1];
  }
  return found;
}

export type Probe = { test: string[] } | { none: string };

const PORT = /^\d{1,5}$/;

function shell(script: string): Probe {
  return { test: ['CMD-SHELL', script] };
}

/**
 * The healthcheck that works in this service's image and on its port, or why there is none.
 * A probe that may be missing from older tags falls back to the one they have: a wrong probe
 * keeps `depends_on: service_healthy` and `up --wait` waiting forever, which is worse than none.
 */
export function knownProbe(service: Record<string, unknown>): Probe | undefined {
  const kind = imageKind(service.image);
  if (!kind) return undefined;
  const words = commandWords(service);
  const unknownPort = (port: string): Probe => ({
    none: `port "${port}" in the command is not a number known now`,
  });
  switch (kind) {
    case 'postgres': {
      const port = optionValue(words, ['-p', '--port']) ?? settingValue(words, /port/);
      if (port !== undefined && !PORT.test(port)) return unknownPort(port);
      // TCP, not the socket: during initdb the entrypoint's temporary server listens on the socket only.
      return { test: ['CMD', 'pg_isready', '-h', '127.0.0.1', ...(port ? ['-p', port] : [])] };
    }
    case 'mysql': {
      const port = optionValue(words, ['-P', '--port']);
      if (port !== undefined && !PORT.test(port)) return unknownPort(port);
      return { test: ['CMD', 'mysqladmin', 'ping', '-h', '127.0.0.1', ...(port ? ['-P', port] : [])] };
    }
    case 'mariadb': {
      if (optionValue(words, ['-P', '--port']) !== undefined)
        return { none: 'a port set in the command: healthcheck.sh would probe the default one' };
      // healthcheck.sh arrived in the images in 2022, and MariaDB 11 dropped the mysqladmin name.
      return shell(
        'if command -v healthcheck.sh >/dev/null 2>&1; then healthcheck.sh --connect --innodb_initialized; elif command -v mariadb-admin >/dev/null 2>&1; then mariadb-admin ping -h 127.0.0.1; else mysqladmin ping -h 127.0.0.1; fi',
      );
    }
    case 'redis': {
      if (words.some((w) => /\.conf$/.test(w))) return { none: 'a redis.conf decides its port and password' };
      if (optionValue(words, ['--requirepass']) !== undefined)
        return { none: 'a password is required (--requirepass)' };
      if (optionValue(words, ['--tls-port']) !== undefined) return { none: 'TLS (--tls-port)' };
      const port = optionValue(words, ['--port']);
      if (port === '0') return { none: 'no TCP port (--port 0)' };
      if (port !== undefined && !PORT.test(port)) return unknownPort(port);
      return { test: ['CMD', 'redis-cli', ...(port ? ['-p', port] : []), 'ping'] };
    }
    case 'mongo': {
      const port = optionValue(words, ['--port']);
      if (port !== undefined && !PORT.test(port)) return unknownPort(port);
      const args = `--quiet${port ? ` --port ${port}` : ''} --eval "db.adminCommand('ping')"`;
      // mongosh is in the images from 5.0 on; the legacy mongo shell was removed in 6.0.
      return shell(`if command -v mongosh >/dev/null 2>&1; then mongosh ${args}; else mongo ${args}; fi`);
    }
    case 'rabbitmq':
      // rabbitmq-diagnostics arrived in 3.7; older images only have rabbitmqctl.
      return shell(
        'if command -v rabbitmq-diagnostics >/dev/null 2>&1; then rabbitmq-diagnostics -q ping; else rabbitmqctl status; fi',
      );
  }
}

export function knownHealthcheck(service: Record<string, unknown>): string[] | undefined {
  const probe = knownProbe(service);
  return probe && 'test' in probe ? probe.test : undefined;
}

/** JVM heap flags in every environment value and command word: the largest -Xmx/-Xms. */
function jvmHeap(
  service: Record<string, unknown>,
): { bytes: number; text: string } | { relative: string } | undefined {
  const texts = [...environmentValues(service).values(), ...commandWords(service)];
  let best: { bytes: number; text: string } | undefined;
  let relative: string | undefined;
  for (const t of texts) {
    for (const m of t.matchAll(/-Xm[xs](\d+[kKmMgGtT]?)\b/g)) {
      const bytes = parseComposeBytes(m[1]);
      if (bytes !== undefined && (!best || bytes > best.bytes)) best = { bytes, text: m[0] };
    }
    const r = /-XX:(MaxRAMPercentage|MaxRAMFraction|InitialRAMPercentage)=\S+/.exec(t);
    if (r) relative = r[0];
  }
  if (best) return best;
  return relative ? { relative } : undefined;
}

export type MemoryNeed = { bytes: number; reason: string } | { unknown: string };

/** Headroom over a JVM heap: metaspace, threads, direct buffers (Elasticsearch advises heap <= 50% of memory). */
export const JVM_HEAP_FACTOR = 2;
/** InnoDB's buffer pool at most half of the memory, the rest for connections and sorts. */
export const INNODB_POOL_FACTOR = 2;

/**
 * What the service's own settings say it needs, when that is more than nothing: a JVM heap, a
 * PostgreSQL shared_buffers, an InnoDB buffer pool, or an image known to need more than the
 * standard (`unknown`: no figure, so no limit should be imposed).
 */
export function memoryNeed(
  service: Record<string, unknown>,
  sharedBuffersMaxShare: number,
): MemoryNeed | undefined {
  const words = commandWords(service);
  const kind = imageKind(service.image);
  if (kind === 'postgres') {
    const sb = settingValue(words, /shared_buffers/);
    const bytes = sb === undefined ? undefined : parsePostgresBytes(sb);
    if (bytes !== undefined)
      return {
        bytes: Math.ceil(bytes / sharedBuffersMaxShare),
        reason: `shared_buffers=${sb} is at most ${sharedBuffersMaxShare * 100}% of it`,
      };
  }
  if (kind === 'mysql' || kind === 'mariadb') {
    const pool =
      settingValue(words, /innodb[-_]buffer[-_]pool[-_]size/) ??
      environmentValues(service).get('MYSQL_INNODB_BUFFER_POOL_SIZE');
    const bytes = pool === undefined ? undefined : parseComposeBytes(pool);
    if (bytes !== undefined)
      return {
        bytes: bytes * INNODB_POOL_FACTOR,
        reason: `innodb_buffer_pool_size=${pool} x ${INNODB_POOL_FACTOR}`,
      };
  }
  const heap = jvmHeap(service);
  if (heap && 'bytes' in heap)
    return { bytes: heap.bytes * JVM_HEAP_FACTOR, reason: `JVM heap ${heap.text} x ${JVM_HEAP_FACTOR}` };
  if (heap)
    return { unknown: `the JVM sizes its heap from the limit (${heap.relative}): a limit decides its heap` };
  if (isHeavyImage(service.image))
    return {
      unknown: `${imageRef(service.image)?.repository ?? 'this image'} is known to need more than the standard limit`,
    };
  return undefined;
}
