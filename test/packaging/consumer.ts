import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const repoRoot = resolve(__dirname, '../../..');

/**
 * Type-checks `source` as a user's consumer.ts in `dir` with the repo's tsc: strict, Node16
 * resolution (so 'docker-stability' resolves through the package's "exports"), @types/node only,
 * and skipLibCheck off, so that the declarations and what they import must hold too.
 */
export function typecheckConsumer(dir: string, source: string): { code: number | null; output: string } {
  writeFileSync(join(dir, 'consumer.ts'), source);
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        module: 'Node16',
        moduleResolution: 'Node16',
        target: 'ES2022',
        noEmit: true,
        skipLibCheck: false,
        types: ['node'],
      },
      files: ['consumer.ts'],
    }),
  );
  const r = spawnSync(
    process.execPath,
    [join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.json')],
    { encoding: 'utf8', timeout: 90_000, env: { ...process.env, NODE_PATH: '' } },
  );
  return { code: r.status, output: `${r.stdout}${r.stderr}` };
}
