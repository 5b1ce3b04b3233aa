// The lock's options as a person sets them (seconds, a name): the extension's `dockerStability.lock.*`.
import { DEFAULT_LOCK_NAME, LOCK_NAME_PATTERN } from '../lock/names';
import { DEFAULT_STALE_MS } from '../lock/types';

export const LOCK_FIELDS = {
  /** Empty: the state folder's `locks`. */
  folder: { kind: 'string', def: '' },
  staleSeconds: { kind: 'number', def: DEFAULT_STALE_MS / 1000, min: 2, max: 86400 },
  defaultName: {
    kind: 'string',
    def: DEFAULT_LOCK_NAME,
    pattern: LOCK_NAME_PATTERN,
    expected: 'a lock name (letters, digits, ".", "-", "_")',
  },
} as const;
