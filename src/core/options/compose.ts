// Compose diagnostics' options: which files are compose files, and whether they are checked.
export const COMPOSE_FIELDS = {
  diagnostics: { kind: 'boolean', def: true },
  globs: { kind: 'stringArray', def: ['**/docker-compose*.{yml,yaml}', '**/compose*.{yml,yaml}'] },
  /** Which compose files are test files, besides the word rule (`validateTestGlobs` checks each glob). */
  testFileGlobs: { kind: 'stringArray', def: [] },
} as const;
