// The bundles are self-contained (docs/packaging.md): the .vsix ships no node_modules, so any
// require of a package left in dist/ would crash the installed extension on activation.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, resolve } from 'node:path';

const repoRoot = resolve(__dirname, '../../..');
const bundles = ['dist/extension.js', 'dist/cli.js', 'dist/lib.js'];
const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

function requiredModules(file: string): string[] {
  const code = readFileSync(join(repoRoot, file), 'utf8');
  return [...new Set([...code.matchAll(/\brequire\(\s*["'`]([^"'`]+)["'`]\s*\)/g)].map((m) => m[1]!))];
}

describe('bundles (dist/)', () => {
  for (const file of bundles) {
    it(`${file} requires nothing but Node built-ins${file.includes('extension') ? ' and vscode' : ''}`, () => {
      const foreign = requiredModules(file).filter((m) => !builtins.has(m) && !(m === 'vscode' && file.includes('extension')));
      assert.deepEqual(foreign, [], `${file} would need these at run time`);
    });
  }

  it('leaves out the gRPC/protobuf stack of dockerode (BuildKit sessions we never start)', () => {
    const code = readFileSync(join(repoRoot, 'dist/extension.js'), 'utf8');
    assert.ok(!code.includes('grpc-node-js'), '@grpc/grpc-js is bundled');
    assert.ok(code.includes('is not bundled in docker-stability'), 'the stand-in module that explains the omission is missing');
  });

  it('reaches an ssh:// endpoint through the bundled pure-JS ssh2 and reports it unreachable clearly', () => {
    // Port 1 on loopback refuses at once: the ssh code path runs without native modules and
    // ends in the CLI's unreachable exit code with the reason, not a crash.
    const r = spawnSync(process.execPath, [join(repoRoot, 'dist/cli.js'), 'status', '--host', 'ssh://nobody@127.0.0.1:1'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 2, `exit ${r.status}: ${r.stderr}`);
    assert.match(r.stderr, /not reachable at ssh:\/\/nobody@127\.0\.0\.1:1: connection refused/);
    assert.doesNotMatch(r.stderr, /Cannot find module|TypeError/);
  });
});
