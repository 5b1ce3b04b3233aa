// What the standard adds to a service, given what it has: used by apply (override or in-place
// edits) and by the rules' quick fixes, so that both add exactly the same keys.
import { hasOfficialPostgresEntrypoint, knownHealthcheck, memoryNeed } from './images';
import { getPath, isRecord } from './model';
import { STANDARD, type Variant } from './standard';
import { formatComposeBytes, parseComposeBytes } from './units';

/** Memory limit: `deploy.resources.limits.memory` (v3/spec) or `mem_limit` (v2 format). */
export const MEM_LIMIT = [['deploy', 'resources', 'limits', 'memory'], ['mem_limit']];
export const MEM_RESERVATION = [['deploy', 'resources', 'reservations', 'memory'], ['mem_reservation']];
/**
 * Any of these limits CPU. `cpus` next to `cpu_quota`/`cpu_period` makes the daemon refuse the
 * container ("Conflicting options: Nano CPUs and CPU Period cannot both be set").
 */
export const CPU_LIMIT = [
  ['deploy', 'resources', 'limits', 'cpus'],
  ['cpus'],
  ['cpu_quota'],
  ['cpu_period'],
  ['cpuset'],
  ['cpu_count'],
  ['cpu_percent'],
];
export const CPU_RESERVATION = [['deploy', 'resources', 'reservations', 'cpus']];

export function firstSet(
  eff: Record<string, unknown>,
  paths: string[][],
): { path: string[]; value: unknown } | undefined {
  for (const path of paths) {
    const value = getPath(eff, path);
    if (value !== undefined && value !== null) return { path, value };
  }
  return undefined;
}

const LEGACY_RESOURCE_KEYS = ['mem_limit', 'mem_reservation', 'cpus'];

/**
 * The memory limit apply adds to a service without one: the standard, raised to what the
 * service's own settings demand (never below), or none when it is known to need more but its
 * settings give no figure.
 */
export function memoryLimitFor(eff: Record<string, unknown>): string | undefined {
  const need = memoryNeed(eff, STANDARD.postgres.sharedBuffersMaxShare);
  if (need && 'unknown' in need) return undefined;
  const standard = parseComposeBytes(STANDARD.resources.limits.memory) as number;
  if (!need || need.bytes <= standard) return STANDARD.resources.limits.memory;
  return formatComposeBytes(Math.ceil(need.bytes / 1024 ** 2) * 1024 ** 2);
}

/**
 * What the standard adds to a service for resources, given what it has (empty when nothing).
 * Written in the style the service already uses, because compose v1 (1.29) does not mix them:
 * once `deploy.resources.limits` exists it takes the memory limit from there alone and drops
 * `mem_limit` (measured on this engine; the same goes for reservations). So a service with
 * `mem_limit`/`mem_reservation`/`cpus` gets those keys, and an existing `deploy.resources.limits`
 * or `.reservations` mapping gets the missing values inside it.
 */
export function resourcesPatch(eff: Record<string, unknown>): Record<string, unknown> {
  const legacy = LEGACY_RESOURCE_KEYS.some((k) => eff[k] !== undefined && eff[k] !== null);
  const hasLimits = isRecord(getPath(eff, ['deploy', 'resources', 'limits']));
  const hasReservations = isRecord(getPath(eff, ['deploy', 'resources', 'reservations']));
  const limits: Record<string, unknown> = {};
  const reservations: Record<string, unknown> = {};
  const top: Record<string, unknown> = {};
  const limitsIntoDeploy = hasLimits || !legacy;
  const memLimit = firstSet(eff, MEM_LIMIT);
  const memory = memLimit ? undefined : memoryLimitFor(eff);
  if (memory !== undefined) {
    if (limitsIntoDeploy) limits.memory = memory;
    else top.mem_limit = memory;
  }
  if (!firstSet(eff, CPU_LIMIT)) {
    if (limitsIntoDeploy) limits.cpus = STANDARD.resources.limits.cpus;
    else top.cpus = STANDARD.resources.limits.cpus;
  }
  if (!firstSet(eff, MEM_RESERVATION)) {
    const standard = parseComposeBytes(STANDARD.resources.reservations.memory) as number;
    const limit = memLimit ? parseComposeBytes(memLimit.value) : standard;
    // A user's limit below the standard reservation wins (a reservation above it is refused);
    // a limit only known at `up` time (a variable) gets no reservation that could exceed it.
    if (limit !== undefined) {
      const value = limit >= standard ? STANDARD.resources.reservations.memory : formatComposeBytes(limit);
      if (hasReservations || !legacy) reservations.memory = value;
      else top.mem_reservation = value;
    }
  }
  const resources: Record<string, unknown> = {};
  if (Object.keys(limits).length > 0) resources.limits = limits;
  if (Object.keys(reservations).length > 0) resources.reservations = reservations;
  return Object.keys(resources).length > 0 ? { ...top, deploy: { resources } } : top;
}

function healthcheckDisabled(hc: unknown): boolean {
  if (!isRecord(hc)) return false;
  const test = hc.test;
  return hc.disable === true || (Array.isArray(test) && test[0] === 'NONE') || test === 'NONE';
}

/** What the standard adds to a service's healthcheck (empty when it has none and none is known, or it is disabled). */
export function healthcheckPatch(eff: Record<string, unknown>): Record<string, unknown> {
  const hc = eff.healthcheck;
  if (healthcheckDisabled(hc)) return {};
  if (hc === undefined || hc === null) {
    const test = knownHealthcheck(eff);
    return test ? { healthcheck: { test, ...STANDARD.healthcheck } } : {};
  }
  if (!isRecord(hc)) return {};
  const add: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(STANDARD.healthcheck)) if (hc[k] === undefined) add[k] = v;
  return Object.keys(add).length > 0 ? { healthcheck: add } : {};
}

/** What the standard adds to a service's logging (empty when it rotates or uses another driver). */
export function loggingPatch(eff: Record<string, unknown>): Record<string, unknown> {
  if (eff.log_driver !== undefined || eff.log_opt !== undefined) return {};
  const logging = eff.logging;
  if (logging === undefined || logging === null)
    return { logging: { driver: STANDARD.logging.driver, options: { ...STANDARD.logging.options } } };
  if (!isRecord(logging)) return {};
  const driver = logging.driver;
  if (driver !== undefined && driver !== 'json-file') return {};
  const options = isRecord(logging.options) ? logging.options : {};
  if (options['max-size'] !== undefined) return {};
  const add: Record<string, unknown> = { 'max-size': STANDARD.logging.options['max-size'] };
  if (options['max-file'] === undefined) add['max-file'] = STANDARD.logging.options['max-file'];
  return { logging: { options: add } };
}

/**
 * Everything the standard adds to one service, given its effective configuration (`extends`
 * resolved): only keys it lacks; nothing the user set is replaced.
 */
export function servicePatch(eff: Record<string, unknown>, variant: Variant): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  if (eff.init === undefined) patch.init = STANDARD.init;
  if (eff.restart === undefined && getPath(eff, ['deploy', 'restart_policy']) === undefined)
    patch.restart = STANDARD.restart[variant];
  Object.assign(patch, healthcheckPatch(eff), resourcesPatch(eff), loggingPatch(eff));
  // Only where the official entrypoint reads `postgres -c ...`: elsewhere it replaces the program.
  if (
    variant === 'test' &&
    hasOfficialPostgresEntrypoint(eff.image) &&
    eff.command === undefined &&
    eff.entrypoint === undefined
  ) {
    patch.command = [
      'postgres',
      ...Object.entries(STANDARD.postgres.settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
    ];
  }
  return patch;
}
