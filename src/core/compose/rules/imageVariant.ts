// The image-variant rule (seed P2 "Alpine image migration"): an official image that publishes a
// slim or alpine variant of the same version.
import { isScalar, type Node, type Scalar } from 'yaml';
import { replaceScalar } from '../edits';
import type { ServiceEntry } from '../model';
import { smallerVariant } from '../variants';
import { fixOf, reportAt, type Ctx, type Resolved } from './context';

export function checkImageVariant(
  ctx: Ctx,
  s: ServiceEntry,
  find: (key: string) => Resolved | undefined,
): void {
  // Judged where the image is written (or merged in): one inherited through extends is judged in its own file.
  const found = find('image');
  const node = found?.pair.value;
  if (!found || !isScalar(node)) return;
  const suggestion = smallerVariant(node.value);
  if (!suggestion) return;
  const { info } = suggestion;
  const size = info.published
    ? ` (published: ${info.published.full} against ${info.published.small}, ${info.published.source})`
    : '';
  const caveat =
    info.variant === 'alpine'
      ? 'Alpine uses musl, not glibc: check locale, DNS and native extensions before switching'
      : 'slim keeps glibc but drops build tools and extra packages';
  // A merged image lives in an anchor other services share: no fix that would change them too.
  const fix = found.merged
    ? undefined
    : fixOf(`Use ${suggestion.image}`, replaceScalar(node as Scalar, suggestion.image));
  reportAt(
    ctx,
    'image-variant',
    ctx.isTest ? 'warning' : 'info',
    `image "${String(node.value)}" has an official ${info.variant} variant, ${suggestion.image}${size}: a smaller pull starts each run sooner and takes less disk on a shared daemon; ${caveat}`,
    node as Node,
    s.pair.key,
    s.name,
    fix,
  );
}
