// Resource rules: missing limits, v1's mixed-key trap, limits below reservations.
import { isMap, isScalar, type Node, type Scalar, type YAMLMap } from 'yaml';
import { insertIntoMap, mergeMissing, replaceScalar } from '../edits';
import { getPath, isRecord, mapPair, nodeAt, type ServiceEntry } from '../model';
import { CPU_LIMIT, CPU_RESERVATION, firstSet, MEM_LIMIT, MEM_RESERVATION, resourcesPatch } from '../patches';
import { parseComposeBytes, parseCpus } from '../units';
import { aboutService, fixOf, reportAt, type Ctx } from './context';

function resourcesTitle(patch: Record<string, unknown>): string {
  const memory = getPath(patch, ['deploy', 'resources', 'limits', 'memory']) ?? patch.mem_limit;
  const cpus = getPath(patch, ['deploy', 'resources', 'limits', 'cpus']) ?? patch.cpus;
  const reservation =
    getPath(patch, ['deploy', 'resources', 'reservations', 'memory']) ?? patch.mem_reservation;
  const parts = [
    memory !== undefined && `memory ${String(memory)}`,
    cpus !== undefined && `${String(cpus)} CPU`,
    reservation !== undefined && `reservation ${String(reservation)}`,
  ];
  return parts.filter((p): p is string => typeof p === 'string').join(', ');
}

/** The v1 trap resourcesPatch avoids, when the user's file already has it. */
export function checkMixedResources(
  ctx: Ctx,
  s: ServiceEntry,
  node: YAMLMap<Scalar, Node>,
  eff: Record<string, unknown>,
): void {
  const pairs: Array<[string, string, string]> = [
    ['mem_limit', 'limits', 'limit'],
    ['mem_reservation', 'reservations', 'reservation'],
  ];
  for (const [legacyKey, section, what] of pairs) {
    const legacyValue = eff[legacyKey];
    const deploySection = getPath(eff, ['deploy', 'resources', section]);
    if (
      legacyValue === undefined ||
      legacyValue === null ||
      !isRecord(deploySection) ||
      deploySection.memory !== undefined
    )
      continue;
    const target = nodeAt(node, ['deploy', 'resources', section]);
    const fix = isMap(target)
      ? fixOf(
          `Set deploy.resources.${section}.memory to ${String(legacyValue)}`,
          insertIntoMap(ctx.text, target as YAMLMap<Scalar, Node>, { memory: legacyValue }),
        )
      : undefined;
    const pair = mapPair(node, legacyKey);
    reportAt(
      ctx,
      'mixed-resource-keys',
      'warning',
      `${legacyKey} ${String(legacyValue)} is ignored by compose v1 because deploy.resources.${section} is set without memory: the container runs with no memory ${what}`,
      pair?.key,
      s.pair.key,
      s.name,
      fix,
    );
  }
}

export function checkResources(
  ctx: Ctx,
  s: ServiceEntry,
  node: YAMLMap<Scalar, Node>,
  eff: Record<string, unknown>,
): void {
  const missing: string[] = [];
  if (!firstSet(eff, MEM_LIMIT)) missing.push('memory');
  if (!firstSet(eff, CPU_LIMIT)) missing.push('CPU');
  if (missing.length > 0) {
    const patch = resourcesPatch(eff);
    const fix = fixOf(
      `Add resource limits (${resourcesTitle(patch)})`,
      ...mergeMissing(ctx.text, node, patch, s.own),
    );
    reportAt(
      ctx,
      'resource-limits',
      'warning',
      aboutService(
        s,
        `has no ${missing.join(' or ')} limit: one runaway container can starve every other one on the daemon`,
      ),
      s.pair.key,
      s.pair.key,
      s.name,
      fix,
    );
  }
  const pairs: Array<[string[][], string[][], 'memory' | 'CPU', (v: unknown) => number | undefined]> = [
    [MEM_LIMIT, MEM_RESERVATION, 'memory', parseComposeBytes],
    [CPU_LIMIT, CPU_RESERVATION, 'CPU', parseCpus],
  ];
  for (const [limitPaths, resPaths, what, parseValue] of pairs) {
    const limit = firstSet(eff, limitPaths);
    const reservation = firstSet(eff, resPaths);
    if (!limit || !reservation) continue;
    const l = parseValue(limit.value);
    const r = parseValue(reservation.value);
    if (l === undefined || r === undefined || l >= r) continue;
    const resNode = nodeAt(node, reservation.path);
    const fix =
      resNode && isScalar(resNode)
        ? fixOf('Lower the reservation to the limit', replaceScalar(resNode, limit.value))
        : undefined;
    reportAt(
      ctx,
      'limits-below-reservations',
      'error',
      `${what} limit ${String(limit.value)} is below the reservation ${String(reservation.value)}: the engine refuses to create the container`,
      resNode,
      s.pair.key,
      s.name,
      fix,
    );
  }
}
