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
