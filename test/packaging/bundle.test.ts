// The bundles are self-contained (docs/packaging.md): the .vsix ships no node_modules, so any
// require of a package left in dist/ would crash the installed extension on activation.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, resolve } from 'node:path';

const repoRoot = resolve(__dirname, '../../..');
// Each bundle and the sibling bundles it may load (scripts/build.mjs): the extension's entry
// point loads its main bundle; everything that reaches dockerode loads the ssh agent on demand.
const bundles: Record<string, string[]> = {
  'dist/extension.js': ['./extension-main.js'],
  'dist/extension-main.js': ['./docker-ssh.js'],
  // The CLI's entry point runs dist/cli-main.js from a code cache (read as a file, not required).
  'dist/cli.js': [],
  'dist/cli-main.js': ['./docker-ssh.js'],
  'dist/lib.js': ['./docker-ssh.js'],
  'dist/docker-ssh.js': [],
  'dist/compose-worker.js': [],
};
const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

function requiredModules(file: string): string[] {
  const code = readFileSync(join(repoRoot, file), 'utf8');
  return [...new Set([...code.matchAll(/\brequire\(\s*["'`]([^"'`]+)["'`]\s*\)/g)].map((m) => m[1]!))];
}

describe('bundles (dist/)', () => {
  for (const [file, siblings] of Object.entries(bundles)) {
    it(`${file} requires nothing but Node built-ins${file.includes('extension') ? ', vscode' : ''}${siblings.length ? ` and ${siblings.join(', ')}` : ''}`, () => {
      const required = requiredModules(file);
      const foreign = required.filter(
        (m) => !builtins.has(m) && !siblings.includes(m) && !(m === 'vscode' && file.includes('extension')),
      );
      assert.deepEqual(foreign, [], `${file} would need these at run time`);
      for (const s of siblings) {
        assert.ok(
          required.includes(s),
          `${file} no longer loads ${s}: update this list and scripts/build.mjs`,
        );
        assert.ok(existsSync(join(repoRoot, 'dist', s)), `${file} loads ${s}, which the build did not write`);
      }
    });
  }

  it('keeps the extension entry point small and ssh2 out of the bundles loaded at start', () => {
    // VS Code counts loading dist/extension.js as activation time; the rest loads after.
    assert.ok(statSync(join(repoRoot, 'dist/extension.js')).size < 4096, 'dist/extension.js grew past 4 KB');
    for (const file of ['dist/extension-main.js', 'dist/cli.js', 'dist/cli-main.js', 'dist/lib.js']) {
      const code = readFileSync(join(repoRoot, file), 'utf8');
      assert.ok(
        !code.includes('ssh-userauth'),
        `${file} bundles ssh2 instead of loading dist/docker-ssh.js on demand`,
      );
    }
    assert.ok(
      readFileSync(join(repoRoot, 'dist/docker-ssh.js'), 'utf8').includes('ssh-userauth'),
      'dist/docker-ssh.js lacks ssh2',
    );
  });

  it('leaves out the gRPC/protobuf stack of dockerode (BuildKit sessions we never start)', () => {
    const code = readFileSync(join(repoRoot, 'dist/extension-main.js'), 'utf8');
    assert.ok(!code.includes('grpc-node-js'), '@grpc/grpc-js is bundled');
    assert.ok(
      code.includes('is not bundled in docker-stability'),
      'the stand-in module that explains the omission is missing',
    );
  });

  it('reaches an ssh:// endpoint through the bundled pure-JS ssh2 and reports it unreachable clearly', () => {
    // Port 1 on loopback refuses at once: the ssh code path runs without native modules and
    // ends in the CLI's unreachable exit code with the reason, not a crash.
    const r = spawnSync(
      process.execPath,
      [join(repoRoot, 'dist/cli.js'), 'status', '--host', 'ssh://nobody@127.0.0.1:1'],
      { encoding: 'utf8', timeout: 30_000 },
    );
    assert.equal(r.status, 2, `exit ${r.status}: ${r.stderr}`);
    assert.match(r.stderr, /not reachable at ssh:\/\/nobody@127\.0\.0\.1:1: connection refused/);
    assert.doesNotMatch(r.stderr, /Cannot find module|TypeError/);
  });

  it('the npm package (CLI and library) ships their bundles with the ssh agent and the type declarations, and no sources, tests or extension', function () {
    this.timeout(60_000);
    const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 0, r.stderr);
    const files = (JSON.parse(r.stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
    for (const f of [
      'dist/cli.js',
      'dist/cli-main.js',
      'dist/lib.js',
      'dist/docker-ssh.js',
      'dist/types/lib.d.ts',
      'README.md',
      'LICENSE',
      'package.json',
      'contrib/systemd/docker-stability-agent@.service',
    ])
      assert.ok(files.includes(f), `npm package lacks ${f}`);
    const unwanted = files.filter((f) =>
      /^(src|test|out|scripts|bench|\.ci)\/|\.map$|^dist\/extension|^dist\/webview/.test(f),
    );
    assert.deepEqual(unwanted, [], 'the npm package ships files it must not');
  });
});
