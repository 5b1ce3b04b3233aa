// The library's type declarations (dist/types, from tsconfig.lib.json): a TypeScript user who
// imports 'docker-stability' gets the real types, checked with skipLibCheck off so that the
// declarations themselves and what they import (dockerode's and yaml's types) must hold.
import * as assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { typecheckConsumer } from './consumer';

const repoRoot = resolve(__dirname, '../../..');

describe('library type declarations (dist/types)', function () {
  this.timeout(120_000);
  // Inside the package (out/ is ignored by git and npm), so that 'docker-stability' resolves to
  // this package through its own "exports", as it does for a user who installed it.
  const dir = join(repoRoot, 'out', 'types-consumer');

  before(() => {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const typecheck = (source: string): { code: number | null; output: string } =>
    typecheckConsumer(dir, source);

  it('package.json points "types" and exports["."].types at the built declarations', () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
      types: string;
      exports: { '.': { types: string } };
    };
    assert.equal(pkg.types, './dist/types/lib.d.ts');
    assert.equal(pkg.exports['.'].types, './dist/types/lib.d.ts');
    assert.ok(
      existsSync(join(repoRoot, pkg.types)),
      `${pkg.types} was not built (npm run build runs tsc -p tsconfig.lib.json)`,
    );
  });

  it('type-checks a consumer of the public API, with the real types (a wrong call fails)', () => {
    const source = readFileSync(join(repoRoot, 'test/packaging/fixtures/consumer.ts.txt'), 'utf8');
    const ok = typecheck(source);
    assert.equal(ok.code, 0, ok.output);
    // Without the expect-error directive the bad call must be reported: the types are not `any`.
    const bad = typecheck(source.replace(/^\/\/ @ts-expect-error.*$/m, ''));
    assert.notEqual(bad.code, 0);
    assert.match(bad.output, /intervalMs|not assignable to type 'number'/);
  });
});
