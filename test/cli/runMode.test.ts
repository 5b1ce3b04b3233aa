import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const CLI = resolve(__dirname, '../../../dist/cli.js');

/** `run --dry-run` takes the core's mode decision and words it with the CLI's flags (no engine). */
describe('cli: run --dry-run and the mode decision', function () {
  this.timeout(30_000);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ds-cli-mode-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const dryRun = (args: string[], config: unknown) => {
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify(config));
    const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_STABILITY_HOME: dir };
    delete env.COMPOSE_FILE;
    return spawnSync(
      process.execPath,
      [CLI, 'run', '--category', 'unit', '--dry-run', '--json', '--config', file, ...args, '--', 'true'],
      { cwd: dir, env, encoding: 'utf8', timeout: 20_000 },
    );
  };

  it('refuses a configured mode that is neither shared nor exclusive, for any category (exit 64)', () => {
    const r = dryRun(['--exclusive'], { runs: { modes: { unit: 'shared', e2e: 'parallel' } } });
    assert.equal(r.status, 64, r.stderr);
    assert.match(r.stderr, /config runs\.modes\.e2e must be "shared" or "exclusive" \(got "parallel"\)/);
  });

  it('a configured shared mode over clean compose files is shared, and says which key asked', () => {
    writeFileSync(join(dir, 'compose.yaml'), 'services:\n  web:\n    image: busybox\n');
    const r = dryRun([], { runs: { modes: { unit: 'shared' } } });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { mode: string; note: string };
    assert.equal(out.mode, 'shared');
    assert.equal(
      out.note,
      'mode shared (runs.modes.unit: shared): no fixed container name or host port in compose.yaml',
    );
    const flag = dryRun(['--exclusive'], { runs: { modes: { unit: 'shared' } } });
    assert.equal((JSON.parse(flag.stdout) as { mode: string }).mode, 'exclusive', 'the flag wins');
  });
});
