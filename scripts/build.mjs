// One esbuild script, eight entries: the extension's small entry point and its main bundle (node/cjs,
// vscode external), the CLI's entry point and bundle (node), the library (node/cjs), the ssh agent all three load on
// demand (node/cjs), the compose worker of the extension (node/cjs) and the webview (browser iife).
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
    build.onResolve({ filter: nativeOptional }, (args) => ({
      path: args.path,
      namespace: 'native-optional',
    }));
    build.onLoad({ filter: /.*/, namespace: 'native-optional' }, (args) => ({
      contents: `throw Object.assign(new Error(${JSON.stringify(`native module ${args.path} is not bundled; the pure-JS fallback is used`)}), { code: 'MODULE_NOT_FOUND' });`,
      loader: 'js',
    }));
  },
};
// docker-modem requires its ssh agent (and with it ssh2, some 330 KB of the bundle) at load,
// though only ssh:// endpoints use it. Its `./ssh` is replaced by a stand-in that loads the
// agent, built on its own as dist/docker-ssh.js, on the first ssh:// request. The extension,
// the CLI and the library then load and compile about 40% less code at start.
const lazySsh = {
  name: 'lazy-ssh',
  setup(build) {
    build.onResolve({ filter: /^\.\/ssh$/ }, (args) =>
      /docker-modem[\\/]lib[\\/]modem\.js$/.test(args.importer)
        ? { path: 'docker-ssh', namespace: 'lazy-ssh' }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'lazy-ssh' }, () => ({
      contents: `module.exports = function sshAgent(options) { return require('./docker-ssh.js')(options); };`,
      loader: 'js',
    }));
  },
};
// Bundles in dist/ that others load at run time, by a require of `./<name>.js` left as it is:
// the extension's main bundle (loaded by its small entry point, src/extension/extension.ts,
// after VS Code's activate call has returned) and the ssh agent (loaded by lazySsh's stand-in).
const siblingBundles = {
  name: 'sibling-bundles',
  setup(build) {
    build.onResolve({ filter: /^\.\/(extension-main|docker-ssh)\.js$/ }, (args) => ({
      path: args.path,
      external: true,
    }));
  },
};
/** A CommonJS bundle for Node 20 (vscode is provided by the extension host, never bundled). */
const nodeBundle = (entry, outfile, plugins, extra = {}) => ({
  ...common,
  entryPoints: [entry],
  outfile,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['vscode'],
  plugins: [...plugins, siblingBundles],
  ...extra,
});

const builds = [
  nodeBundle('src/extension/extension.ts', 'dist/extension.js', []),
  nodeBundle('src/extension/main.ts', 'dist/extension-main.js', [trimDockerode, lazySsh]),
  // The compose rules run in a worker thread so that checking never blocks the extension host.
  nodeBundle('src/extension/composeWorker.ts', 'dist/compose-worker.js', []),
  nodeBundle('node_modules/docker-modem/lib/ssh.js', 'dist/docker-ssh.js', [trimDockerode]),
  // The CLI: a small entry point (the bin) that runs the CLI bundle from a V8 code cache
  // (src/cli/entry.ts). The bundle is minified in every build: a start without the cache
  // compiles the whole file, and half the bytes is about 10 ms less CPU (issue 17's overhead
  // of a run). The source map keeps development stack traces readable (--enable-source-maps).
  nodeBundle('src/cli/entry.ts', 'dist/cli.js', [], { banner: { js: '#!/usr/bin/env node' }, minify: true }),
  nodeBundle('src/cli/main.ts', 'dist/cli-main.js', [trimDockerode, lazySsh], { minify: true }),
  nodeBundle('src/lib.ts', 'dist/lib.js', [trimDockerode, lazySsh]),
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
