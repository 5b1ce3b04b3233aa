// An owner in words and as a grouping key: the core's views and the webview both name owners,
// so this lives on the shared floor (it imports nothing outside src/shared).
import type { Owner } from './monitor';

/** A stable key for grouping (`compose:shop-test`, `other`). */
export function ownerKey(o: Owner): string {
  return o.kind === 'other' ? 'other' : `${o.kind}:${o.id}`;
}

/** An owner in a few words: `compose shop-test`, `run 3f2a9c (unit)`, `testcontainers 9b1e0f2a`, `other`. */
export function ownerLabel(o: Owner): string {
  switch (o.kind) {
    case 'run':
      return `run ${o.id}${o.category ? ` (${o.category})` : ''}`;
    case 'compose':
      return `compose ${o.id}`;
    case 'testcontainers':
      // session ids are UUIDs: the first block tells them apart
      return `testcontainers ${o.id.slice(0, 8)}`;
    case 'other':
      return 'other';
  }
}
