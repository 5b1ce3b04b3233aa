/**
 * The base standard: one source of truth for the numbers in compose/*.yml (a test keeps the
 * files in step), for `planApply` and for the rules. Values are strings exactly as they are
 * written into compose files, so that v1 (1.29) and v2 read them the same way.
 */
export const STANDARD = {
  healthcheck: {
    interval: '10s',
    timeout: '5s',
    retries: 5,
    /** Long enough for a database's first initdb on a loaded 2-core CI machine. */
    start_period: '30s',
  },
  resources: {
    limits: { memory: '512M', cpus: '0.25' },
    reservations: { memory: '256M' },
  },
  logging: {
    driver: 'json-file',
    /** 3 files of 10 MB: at most 30 MB of logs per container, so logs cannot fill the disk. */
    options: { 'max-size': '10m', 'max-file': '3' },
  },
  /** tini as PID 1 forwards SIGTERM, so `down` stops containers at once instead of after 10 s. */
  init: true,
  restart: {
    /** Tests: nothing may come back by itself after the run (or after a daemon restart). */
    test: 'no',
    /** Dev: retry a crashing service a few times, but never resurrect it after a daemon restart. */
    dev: 'on-failure:3',
  },
  postgres: {
    /** Test variant: durable settings (these are PostgreSQL's defaults, made explicit). */
    settings: { fsync: 'on', synchronous_commit: 'on', shared_buffers: '128MB' },
    /** shared_buffers above this share of the memory limit leaves too little for the rest. */
    sharedBuffersMaxShare: 0.25,
  },
} as const;

export type Variant = 'test' | 'dev';

/**
 * Healthchecks for well-known images, used where a service has none. Only images whose
 * readiness command is certain are listed; every other image needs a user-written test.
 */
const KNOWN_HEALTHCHECKS: Array<{ match: RegExp; test: string[] }> = [
  // TCP, not the socket: during initdb the entrypoint's temporary server listens on the socket only.
  { match: /postgres|postgis/, test: ['CMD', 'pg_isready', '-h', '127.0.0.1'] },
  { match: /^mysql$/, test: ['CMD', 'mysqladmin', 'ping', '-h', '127.0.0.1'] },
  { match: /^mariadb$/, test: ['CMD', 'healthcheck.sh', '--connect', '--innodb_initialized'] },
  { match: /^redis(-stack)?(-server)?$/, test: ['CMD', 'redis-cli', 'ping'] },
  { match: /^(mongo|mongodb)$/, test: ['CMD', 'mongosh', '--quiet', '--eval', "db.adminCommand('ping')"] },
  { match: /^rabbitmq$/, test: ['CMD', 'rabbitmq-diagnostics', '-q', 'ping'] },
];

/** The repository's last path segment of an image reference, or undefined if it holds a variable. */
export function imageName(image: unknown): string | undefined {
  if (typeof image !== 'string') return undefined;
  const withoutDigest = image.split('@')[0] as string;
  const slash = withoutDigest.lastIndexOf('/');
  const last = withoutDigest.slice(slash + 1);
  const name = last.split(':')[0] as string;
  if (name.includes('$') || name === '') return undefined;
  return name.toLowerCase();
}

export function knownHealthcheck(image: unknown): string[] | undefined {
  const name = imageName(image);
  if (name === undefined) return undefined;
  return KNOWN_HEALTHCHECKS.find((k) => k.match.test(name))?.test;
}

export function isPostgresImage(image: unknown): boolean {
  const name = imageName(image);
  return name !== undefined && /postgres|postgis/.test(name);
}
