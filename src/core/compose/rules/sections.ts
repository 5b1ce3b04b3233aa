// The rules of one compose document at its two levels: the top-level mapping, and each service
// as compose resolves it (merge keys, extends, interpolation defaults) through the rules of each
// theme. The whole-document check and the check in parts both call them.
import { isMap, isScalar, type Node, type Scalar, type YAMLMap } from 'yaml';
import { LEGACY_SERVICE_KEYS, SERVICE_KEYS, TOP_LEVEL_KEYS } from '../keys';
import { effectiveService } from '../extends';
import { mapPair, resolvedPair, type ServiceEntry } from '../model';
import { report, reportAt, type Ctx, type Resolved } from './context';
import { checkHealthcheck, checkLogging } from './healthLogging';
import { checkImageVariant } from './imageVariant';
import { checkPostgres } from './postgres';
import { checkMixedResources, checkResources } from './resources';
import { unknownKey } from './syntax';
import { checkTestOnly } from './testOnly';
import { checkServiceTmpfs, checkVolumesTmpfs } from './tmpfs';

/** The rules on the top-level mapping; false when `services` is not a mapping (nothing more to check). */
export function checkTopLevel(ctx: Ctx, root: YAMLMap<Scalar, Node>, legacy: boolean): boolean {
  // In the legacy format every top-level key is a service.
  for (const pair of legacy ? [] : root.items) {
    const key = pair.key;
    if (
      !isScalar(key) ||
      typeof key.value !== 'string' ||
      key.value.startsWith('x-') ||
      TOP_LEVEL_KEYS.has(key.value)
    )
      continue;
    unknownKey(ctx, root, key, TOP_LEVEL_KEYS, 'at the top level');
  }
  const servicesPair = mapPair(root, 'services');
  if (servicesPair && !isMap(servicesPair.value)) {
    reportAt(
      ctx,
      'compose-structure',
      'error',
      '`services` must be a mapping of service names to their configuration',
      servicesPair.value,
      servicesPair.key,
    );
    return false;
  }
  checkVolumesTmpfs(ctx, root);
  if (legacy) {
    const first = root.items[0]?.key;
    report(
      ctx,
      'legacy-format',
      'info',
      'the legacy version 1 format (services at the top level, as docker-compose 1.x reads a file without `version` or `services`): healthchecks, resource limits and log options need the services under `services:`',
      first?.range?.[0] ?? 0,
      first?.range?.[1] ?? 0,
    );
  }
  return true;
}

/** One service: its structure, its keys, then the rules on it as compose resolves it (`services`: every service's own plain value, for extends). */
export function checkServiceEntry(
  ctx: Ctx,
  s: ServiceEntry,
  legacy: boolean,
  services: Record<string, unknown>,
): void {
  if (!s.node) {
    const empty = !s.pair.value || (isScalar(s.pair.value) && s.pair.value.value === null);
    reportAt(
      ctx,
      'compose-structure',
      'error',
      `service "${s.name}" must be a mapping (image:, command:, ...)`,
      empty ? s.pair.key : s.pair.value,
      s.pair.key,
      s.name,
    );
    return;
  }
  const known = legacy ? LEGACY_SERVICE_KEYS : SERVICE_KEYS;
  for (const pair of s.node.items) {
    const key = pair.key;
    if (!isScalar(key) || typeof key.value !== 'string' || key.value.startsWith('x-') || known.has(key.value))
      continue;
    unknownKey(ctx, s.node, key, known, `in service "${s.name}"`, s.name);
  }
  const eff = effectiveService(s.name, services, ctx.loader);
  // The legacy format has none of the keys the standard adds: judge only what it can say.
  checkService(ctx, s, s.node, legacy ? undefined : eff, eff);
}

/** `eff` drives the rules that add keys (undefined: skip them); `resolved` is what the service is, for the others. */
function checkService(
  ctx: Ctx,
  s: ServiceEntry,
  node: YAMLMap<Scalar, Node>,
  eff: Record<string, unknown> | undefined,
  resolved = eff,
): void {
  const find = (key: string): Resolved | undefined => resolvedPair(node, key, ctx.target);
  checkServiceTmpfs(ctx, s, node, resolved, find);
  if (eff) {
    checkMixedResources(ctx, s, node, eff);
    checkResources(ctx, s, node, eff);
    checkHealthcheck(ctx, s, node, eff);
    checkLogging(ctx, s, node, eff);
  }
  const full = resolved ?? s.own;
  checkPostgres(ctx, s, node, full, find);
  checkImageVariant(ctx, s, find);
  if (ctx.isTest) checkTestOnly(ctx, s, node, full, find);
}
