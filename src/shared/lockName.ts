// What a lock name may be, in one place: the lock (src/core/lock/names.ts), its setting and
// the webview protocol (a force-release request names a lock) all check against it.

/** Letters, digits, `.`, `-`, `_`; starts with a letter or digit, never ends with `.` (Windows strips it); at most 64. */
export const LOCK_NAME_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,62}[A-Za-z0-9_-])?$/;
