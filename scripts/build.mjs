// One esbuild script, four entries: extension (node/cjs, vscode external), CLI (node), library (node/cjs), webview (browser iife).
import * as esbuild from 'esbuild';
import { chmodSync } from 'node:fs';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

const common = {
  bundle: true,
  minify: production,
  sourcemap: !production,
  logLevel: 'warning',
  legalComments: 'none',
};
// What dockerode drags in and how the bundles deal with it (docs/packaging.md):
// - @grpc/grpc-js, @grpc/proto-loader, protobufjs serve only dockerode's BuildKit session
//   (image builds), which we never start: replaced by a module that throws when touched,
//   about 400 KB less per bundle.
// - ssh2 (ssh:// endpoints) is bundled as plain JavaScript; its two native accelerators are
//   optional inside ssh2 (required in try/catch, pure-JS fallbacks), so they are replaced by
//   "missing" modules: no native addon to build or ship on any platform.
const unavailable = ['@grpc/grpc-js', '@grpc/proto-loader', 'protobufjs'];
const nativeOptional = /^cpu-features$|sshcrypto\.node$/;
const trimDockerode = {
  name: 'trim-dockerode',
  setup(build) {
    const filter = new RegExp(`^(${unavailable.map((m) => m.replace(/[/]/g, '\\/')).join('|')})$`);
    build.onResolve({ filter }, (args) => ({ path: args.path, namespace: 'unavailable' }));
    build.onLoad({ filter: /.*/, namespace: 'unavailable' }, (args) => ({
      contents: `const fail = () => { throw new Error(${JSON.stringify(`${args.path} is not bundled in docker-stability: dockerode's BuildKit session (image builds) is not supported`)}); };
module.exports = new Proxy({}, { get: (_, key) => (key === '__esModule' || typeof key === 'symbol' ? undefined : fail()) });`,
      loader: 'js',
    }));
    build.onResolve({ filter: nativeOptional }, (args) => ({ path: args.path, namespace: 'native-optional' }));
    build.onLoad({ filter: /.*/, namespace: 'native-optional' }, (args) => ({
      contents: `throw Object.assign(new Error(${JSON.stringify(`native module ${args.path} is not bundled; the pure-JS fallback is used`)}), { code: 'MODULE_NOT_FOUND' });`,
      loader: 'js',
    }));
  },
};
const nodeExternals = ['vscode'];

const builds = [
  {
    ...common,
    entryPoints: ['src/extension/extension.ts'],
    outfile: 'dist/extension.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: nodeExternals,
    plugins: [trimDockerode],
  },
  {
    ...common,
    entryPoints: ['src/cli/main.ts'],
    outfile: 'dist/cli.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: nodeExternals,
    plugins: [trimDockerode],
    banner: { js: '#!/usr/bin/env node' },
  },
  {
    ...common,
    entryPoints: ['src/lib.ts'],
    outfile: 'dist/lib.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: nodeExternals,
    plugins: [trimDockerode],
  },
  {
    ...common,
    entryPoints: ['src/webview/main.ts'],
    outfile: 'dist/webview/main.js',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
  },
];

if (watch) {
  for (const b of builds) await (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
  chmodSync('dist/cli.js', 0o755);
}
