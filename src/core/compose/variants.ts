import { hasInterpolation } from './units';

/** A smaller variant of an official image: its tag suffix, and a published size figure where one is known. */
export interface SmallerVariant {
  variant: 'alpine' | 'slim';
  /** Named tags (besides versions and `latest`) that have the variant: `lts` -> `lts-alpine`. */
  namedTags?: readonly string[];
  /** A published compressed size pair, with where it comes from; absent when none is known here. */
  published?: { full: string; small: string; source: string };
}

/**
 * Official Docker Hub images that publish a slim or alpine variant of each version tag, and the
 * one suggested. Slim (Debian, glibc) where the ecosystem ships glibc binaries (Python wheels,
 * Ruby gems, Perl modules); alpine where the image is a server that does not load
 * user native code, or has no slim variant (postgres, redis, nginx, ...). Images without such a
 * variant (mysql, mariadb, mongo, elasticsearch, ...) are not listed and never get the finding.
 * Size figures: none could be measured here (no registry); the only published figure known is
 * node's, from goldbergyon/nodebestpractices "Prefer smaller Docker base images" (node 14.4.0).
 */
export const SMALLER_VARIANTS: Readonly<Record<string, SmallerVariant>> = {
  node: {
    variant: 'slim',
    namedTags: ['lts', 'current'],
    published: { full: '~345 MB', small: '~38 MB', source: 'nodebestpractices, node 14.4.0' },
  },
  python: { variant: 'slim' },
  ruby: { variant: 'slim' },
  perl: { variant: 'slim' },
  golang: { variant: 'alpine' },
  postgres: { variant: 'alpine' },
  redis: { variant: 'alpine' },
  nginx: { variant: 'alpine', namedTags: ['stable', 'mainline'] },
  httpd: { variant: 'alpine' },
  memcached: { variant: 'alpine' },
  rabbitmq: { variant: 'alpine', namedTags: ['management'] },
  php: { variant: 'alpine' },
  haproxy: { variant: 'alpine' },
};

/** Registries under which an unqualified repository is a Docker Hub official image. */
const HUB = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

export interface VariantSuggestion {
  repository: string;
  /** The image reference with the variant, written like the original (registry and `library/` kept). */
  image: string;
  info: SmallerVariant;
}

/**
 * The smaller variant of an official image, or undefined: not an official image in the table, a
 * tag that is already a variant (or any suffixed tag), a digest, or a variable.
 */
export function smallerVariant(image: unknown): VariantSuggestion | undefined {
  if (typeof image !== 'string' || image.includes('@') || hasInterpolation(image)) return undefined;
  const ref = image.trim();
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  const name = colon > slash ? ref.slice(0, colon) : ref;
  const tag = colon > slash ? ref.slice(colon + 1) : undefined;
  const parts = name.split('/');
  if (parts.length > 1 && /[.:]|^localhost$/.test(parts[0] as string)) {
    if (!HUB.has(parts[0] as string)) return undefined;
    parts.shift();
  }
  if (parts.length > 1 && parts[0] === 'library') parts.shift();
  if (parts.length !== 1) return undefined;
  const repository = parts[0] as string;
  const info = Object.prototype.hasOwnProperty.call(SMALLER_VARIANTS, repository)
    ? SMALLER_VARIANTS[repository]
    : undefined;
  if (!info) return undefined;
  let next: string;
  if (tag === undefined) next = `${ref}:${info.variant}`;
  else if (tag === 'latest') next = `${name}:${info.variant}`;
  else if (/^\d+(\.\d+)*$/.test(tag) || info.namedTags?.includes(tag)) next = `${ref}-${info.variant}`;
  else return undefined;
  return { repository, image: next, info };
}
