// The tmpfs rule: RAM-backed mounts, in top-level volumes and in services.
import { isMap, isScalar, isSeq, type Node, type Scalar, type YAMLMap, type YAMLSeq } from 'yaml';
import { removePair, removeSeqItem } from '../edits';
import { getPath, mapGet, mapPair, type ServiceEntry } from '../model';
import { parseComposeBytes } from '../units';
import { fixOf, reportAt, type Ctx, type Finding, type Resolved, type Severity } from './context';

/** Top-level volumes backed by tmpfs through the local driver's options. */
export function checkVolumesTmpfs(ctx: Ctx, root: YAMLMap<Scalar, Node>): void {
  const volumes = mapGet(root, 'volumes');
  if (!isMap(volumes)) return;
  for (const pair of (volumes as YAMLMap<Scalar, Node>).items) {
    const vol = pair.value;
    if (!isMap(vol)) continue;
    const optsPair = mapPair(vol as YAMLMap<Scalar, Node>, 'driver_opts');
    const type = isMap(optsPair?.value)
      ? mapGet(optsPair?.value as YAMLMap<Scalar, Node>, 'type')
      : undefined;
    if (!isScalar(type) || type.value !== 'tmpfs' || !optsPair) continue;
    const sized = /size=/.test(String(getPath((optsPair.value as YAMLMap).toJSON(), ['o']) ?? ''));
    const fix = fixOf(
      'Remove the tmpfs driver options (a disk-backed volume)',
      removePair(ctx.text, vol as YAMLMap<Scalar, Node>, optsPair),
    );
    tmpfsFinding(ctx, `volume "${String(pair.key?.toString())}" is a tmpfs`, sized, type, undefined, fix);
  }
}

function tmpfsFinding(
  ctx: Ctx,
  what: string,
  sized: boolean,
  node: Node,
  service: string | undefined,
  fix: Finding['fix'],
): void {
  const severity: Severity = !sized ? (ctx.isTest ? 'error' : 'warning') : 'info';
  const why = sized
    ? 'its size is capped, but its pages still count against the memory of the container and the host'
    : 'it lives in RAM with no size cap: under parallel load it exhausts memory (OOM kills, hangs), the classic cause of flaky Docker tests';
  const advice = ctx.isTest ? '; test files use disk-backed volumes' : '';
  reportAt(ctx, 'tmpfs', severity, `${what}: ${why}${advice}`, node, node, service, fix);
}

/** A tmpfs mount is capped only by a size above zero (`size=0` is unlimited). */
function tmpfsSized(value: unknown): boolean {
  const m = /(?:^|[:,])size=(\d+)/.exec(String(value));
  return m !== null && Number(m[1]) > 0;
}

/** The service's `tmpfs` key (string or list) and its long-syntax tmpfs volumes. */
export function checkServiceTmpfs(
  ctx: Ctx,
  s: ServiceEntry,
  node: YAMLMap<Scalar, Node>,
  resolved: Record<string, unknown> | undefined,
  find: (key: string) => Resolved | undefined,
): void {
  const { text } = ctx;
  const tmpfs = find('tmpfs');
  const tmpfsPair = tmpfs?.pair;
  if (tmpfs && tmpfsPair?.value) {
    if (isSeq(tmpfsPair.value)) {
      const seq = tmpfsPair.value as YAMLSeq<Node>;
      for (const item of seq.items) {
        if (!isScalar(item)) continue;
        const fix = fixOf(
          'Remove this tmpfs mount',
          seq.items.length > 1 ? removeSeqItem(text, seq, item) : removePair(text, tmpfs.map, tmpfsPair),
        );
        tmpfsFinding(ctx, `tmpfs mount "${String(item.value)}"`, tmpfsSized(item.value), item, s.name, fix);
      }
    } else if (isScalar(tmpfsPair.value)) {
      const fix = fixOf('Remove the tmpfs mount', removePair(text, tmpfs.map, tmpfsPair));
      tmpfsFinding(
        ctx,
        `tmpfs mount "${String(tmpfsPair.value.value)}"`,
        tmpfsSized(tmpfsPair.value.value),
        tmpfsPair.value,
        s.name,
        fix,
      );
    }
  } else if (resolved && resolved.tmpfs !== undefined && resolved.tmpfs !== null) {
    // Inherited through extends: reported at the `extends` key, with no fix here.
    const at = mapPair(node, 'extends')?.key ?? s.pair.key;
    const what = `tmpfs mount ${JSON.stringify(resolved.tmpfs)} (inherited through extends)`;
    tmpfsFinding(ctx, what, false, at, s.name, undefined);
  }
  const vols = find('volumes');
  if (vols && isSeq(vols.pair.value)) {
    const seq = vols.pair.value as YAMLSeq<Node>;
    for (const item of seq.items) {
      if (!isMap(item)) continue;
      const type = mapGet(item as YAMLMap<Scalar, Node>, 'type');
      if (!isScalar(type) || type.value !== 'tmpfs') continue;
      const target = getPath((item as YAMLMap).toJSON(), ['target']);
      const size = getPath((item as YAMLMap).toJSON(), ['tmpfs', 'size']);
      const fix = fixOf(
        'Remove this tmpfs mount',
        seq.items.length > 1 ? removeSeqItem(text, seq, item) : removePair(text, vols.map, vols.pair),
      );
      tmpfsFinding(
        ctx,
        `tmpfs mount "${String(target ?? '')}"`,
        size !== undefined && parseComposeBytes(size) !== 0,
        type,
        s.name,
        fix,
      );
    }
  }
}
