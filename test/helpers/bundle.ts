// src/webview is an ES module package (a browser bundle): tests of its modules bundle them with
// esbuild, as the webview's build does, and import the bundle in plain Node.
import { buildSync, type BuildOptions } from 'esbuild';
import { join } from 'node:path';

/** The repository's root, from a compiled test (out/test/...). */
export const REPO_ROOT = join(__dirname, '../../..');

/** Bundles `options` (one entry point or stdin) as an ES module and imports it. */
export async function importBundled<T>(options: BuildOptions): Promise<T> {
  const [out] = buildSync({ bundle: true, format: 'esm', write: false, ...options }).outputFiles ?? [];
  if (!out) throw new Error('esbuild produced no output');
  return (await import(`data:text/javascript;base64,${Buffer.from(out.text).toString('base64')}`)) as T;
}
