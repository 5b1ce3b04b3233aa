// Rules for test files only: what makes two runs at once collide or outlive the run.
import { isMap, isScalar, isSeq, type Node, type Scalar, type YAMLMap, type YAMLSeq } from 'yaml';
import { insertIntoMap, removePair, replaceScalar } from '../edits';
import { getPath, isRecord, mapPair, nodeAt, type ServiceEntry } from '../model';
import { STANDARD } from '../standard';
import { hasInterpolation } from '../units';
import { fixOf, inherited, reportAt, type Ctx, type Resolved } from './context';

export function checkTestOnly(
  ctx: Ctx,
  s: ServiceEntry,
  node: YAMLMap<Scalar, Node>,
  full: Record<string, unknown>,
  find: (key: string) => Resolved | undefined,
): void {
  const restart = full.restart;
  // `deploy.restart_policy.condition: any` restarts whatever the exit, like `always`.
  const condition = getPath(full, ['deploy', 'restart_policy', 'condition']);
  const restartPair = find('restart');
  if (restart === 'always' || restart === 'unless-stopped') {
    const own = restartPair?.pair.value;
    const fix = isScalar(own)
      ? fixOf('Set restart to "no"', replaceScalar(own, STANDARD.restart.test))
      : fixOf('Set restart to "no"', insertIntoMap(ctx.text, node, { restart: STANDARD.restart.test }));
    reportAt(
      ctx,
      'restart-in-test',
      'warning',
      `restart: ${restart} in a test file: the container comes back after the run (and after a daemon restart) and holds memory, ports and names`,
      own,
      s.pair.key,
      s.name,
      fix,
    );
  } else if (condition === 'any') {
    const deploy = find('deploy')?.pair.value;
    const own = isMap(deploy)
      ? nodeAt(deploy as YAMLMap<Scalar, Node>, ['restart_policy', 'condition'])
      : undefined;
    const msg =
      'deploy.restart_policy.condition: any in a test file: like restart: always, the container comes back after the run and holds memory, ports and names';
    if (isScalar(own))
      reportAt(
        ctx,
        'restart-in-test',
        'warning',
        msg,
        own,
        s.pair.key,
        s.name,
        fixOf('Set the condition to "none"', replaceScalar(own, 'none')),
      );
    else inherited(ctx, s, node, 'restart-in-test', `${msg} (inherited through extends)`);
  }
  const name = find('container_name');
  const namePair = name?.pair;
  if (name && namePair && isScalar(namePair.value) && !hasInterpolation(namePair.value.value)) {
    const fix = fixOf(
      'Remove container_name (compose names containers per project)',
      removePair(ctx.text, name.map, namePair),
    );
    reportAt(
      ctx,
      'fixed-container-name',
      'warning',
      containerNameMessage(String(namePair.value.value)),
      namePair.value,
      namePair.key,
      s.name,
      fix,
    );
  } else if (!name && typeof full.container_name === 'string' && !hasInterpolation(full.container_name)) {
    inherited(
      ctx,
      s,
      node,
      'fixed-container-name',
      `${containerNameMessage(full.container_name)} (inherited through extends)`,
    );
  }
  const ports = find('ports')?.pair.value;
  if (!ports && Array.isArray(full.ports)) {
    for (const p of full.ports.filter(fixedHostPort))
      inherited(
        ctx,
        s,
        node,
        'fixed-host-port',
        `${portMessage(isRecord(p) ? String(p.published) : String(p))} (inherited through extends)`,
      );
  }
  if (!isSeq(ports)) return;
  for (const item of (ports as YAMLSeq<Node>).items) {
    if (isScalar(item)) checkShortPort(ctx, s, item);
    else if (isMap(item)) {
      const map = item as YAMLMap<Scalar, Node>;
      const published = mapPair(map, 'published');
      const value = published?.value;
      if (
        !published ||
        !isScalar(value) ||
        value.value === null ||
        hasInterpolation(value.value) ||
        String(value.value) === '' ||
        String(value.value) === '0'
      )
        continue;
      const fix = fixOf('Let Docker choose the host port', removePair(ctx.text, map, published));
      reportAt(
        ctx,
        'fixed-host-port',
        'warning',
        portMessage(String(value.value)),
        value,
        published.key,
        s.name,
        fix,
      );
    }
  }
}

/** A plain port entry that names a host port (`8080:80`, `127.0.0.1:8080:80`, `{published: 8080}`). */
function fixedHostPort(p: unknown): boolean {
  if (isRecord(p))
    return (
      p.published !== undefined &&
      p.published !== null &&
      String(p.published) !== '' &&
      String(p.published) !== '0' &&
      !hasInterpolation(p.published)
    );
  if (typeof p !== 'string' || hasInterpolation(p)) return false;
  const parts = p.replace(/^\[[^\]]*\]/, 'ip').split(':');
  const host = parts.length >= 2 ? parts[parts.length - 2] : undefined;
  return host !== undefined && host !== '' && host !== '0';
}

function containerNameMessage(name: string): string {
  return `container_name "${name}" is fixed: two test runs at once (or a leftover container) collide on it`;
}

function portMessage(host: string): string {
  return `host port ${host} is fixed: two test runs at once (or any other process on it) fail with "port is already allocated"; publish the container port alone and ask Docker which host port it chose`;
}

function checkShortPort(ctx: Ctx, s: ServiceEntry, item: Scalar): void {
  if (typeof item.value !== 'string' || hasInterpolation(item.value)) return;
  const value = item.value;
  // [ip:]host:container[/proto]; an IPv6 ip is bracketed.
  const ipv6 = /^(\[[^\]]*\]):(.*)$/.exec(value);
  const ip = ipv6 ? ipv6[1] : undefined;
  const rest = ipv6 ? (ipv6[2] as string) : value;
  const parts = rest.split(':');
  let hostIp = ip;
  let host: string | undefined;
  let container: string;
  if (ip !== undefined) {
    if (parts.length !== 2) return;
    [host, container] = parts as [string, string];
  } else if (parts.length === 3) [hostIp, host, container] = parts as [string, string, string];
  else if (parts.length === 2) [host, container] = parts as [string, string];
  else return;
  if (host === undefined || host === '' || host === '0') return;
  const replacement = hostIp !== undefined ? `${hostIp}::${container}` : container;
  reportAt(
    ctx,
    'fixed-host-port',
    'warning',
    portMessage(host),
    item,
    item,
    s.name,
    fixOf('Let Docker choose the host port', replaceScalar(item, replacement)),
  );
}
