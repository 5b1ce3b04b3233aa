// Rules on what lets others wait for and live with a service: its healthcheck and log rotation.
import { type Node, type Scalar, type YAMLMap } from 'yaml';
import { insertIntoMap, mergeMissing } from '../edits';
import { knownProbe } from '../images';
import { mapGet, mapPair, type ServiceEntry } from '../model';
import { loggingPatch } from '../patches';
import { STANDARD } from '../standard';
import { aboutService, fixOf, reportAt, type Ctx } from './context';

export function checkHealthcheck(
  ctx: Ctx,
  s: ServiceEntry,
  node: YAMLMap<Scalar, Node>,
  eff: Record<string, unknown>,
): void {
  if (eff.healthcheck !== undefined && eff.healthcheck !== null) return;
  const probe = knownProbe(eff);
  const test = probe && 'test' in probe ? probe.test : undefined;
  const fix = test
    ? fixOf(
        'Add the standard healthcheck for this image',
        insertIntoMap(ctx.text, node, { healthcheck: { test, ...STANDARD.healthcheck } }),
      )
    : undefined;
  const why = probe && 'none' in probe ? `; no standard probe fits: ${probe.none}` : '';
  const hint = test ? '' : ` (add one: test, interval 10s, timeout 5s, retries 5${why})`;
  reportAt(
    ctx,
    'healthcheck',
    'warning',
    aboutService(s, `has no healthcheck: dependents and tests cannot wait for it to be ready${hint}`),
    s.pair.key,
    s.pair.key,
    s.name,
    fix,
  );
}

export function checkLogging(
  ctx: Ctx,
  s: ServiceEntry,
  node: YAMLMap<Scalar, Node>,
  eff: Record<string, unknown>,
): void {
  const patch = loggingPatch(eff);
  if (Object.keys(patch).length === 0) return;
  const fix = fixOf(
    'Add json-file log rotation (max-size 10m, max-file 3)',
    ...mergeMissing(ctx.text, node, patch, s.own),
  );
  const logNode = mapGet(node, 'logging');
  const message = logNode
    ? aboutService(s, 'logs with json-file without max-size: its log grows until the disk is full')
    : aboutService(
        s,
        'has no logging options: the default json-file log grows without limit unless the daemon sets log-opts',
      );
  reportAt(
    ctx,
    'log-rotation',
    'warning',
    message,
    logNode ? mapPair(node, 'logging')?.key : s.pair.key,
    s.pair.key,
    s.name,
    fix,
  );
}
