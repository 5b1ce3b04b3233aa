import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const DIST = resolve(__dirname, '../../../dist');

/** The CLI's entry point runs its bundle from a V8 code cache (no engine needed). */
describe('cli: the entry point and its code cache', function () {
  this.timeout(30_000);
  let dir: string;
  let cache: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ds-entry-'));
    cache = join(dir, 'code-cache');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const cli = (args: string[], env: NodeJS.ProcessEnv = {}, entry = join(DIST, 'cli.js')) =>
    spawnSync(process.execPath, [entry, ...args], {
      encoding: 'utf8',
      timeout: 20_000,
      env: { ...process.env, DOCKER_STABILITY_HOME: dir, DOCKER_STABILITY_CODE_CACHE: cache, ...env },
    });
  const files = (): string[] => (existsSync(cache) ? readdirSync(cache).sort() : []);

  it('writes one private cache per command on the first start and reuses it after', function () {
    const first = cli(['--version']);
    assert.equal(first.status, 0, first.stderr);
    assert.equal(first.stdout.trim(), '0.1.0');
    const [written, ...more] = files();
    assert.deepEqual(more, []);
    assert.match(written ?? '', /^cli-other-v\d+\.\d+\.\d+-\w+-[0-9a-f]{16}\.cache$/);
    if (process.platform !== 'win32') {
      assert.equal(statSync(cache).mode & 0o777, 0o700);
      assert.equal(statSync(join(cache, written as string)).mode & 0o777, 0o600);
    }
    const before = statSync(join(cache, written as string));
    const again = cli(['--version']);
    assert.equal(again.stdout.trim(), '0.1.0');
    const after = statSync(join(cache, written as string));
    assert.equal(after.ino, before.ino, 'a cache V8 accepted is not written again');
    assert.equal(after.mtimeMs, before.mtimeMs);
    assert.equal(cli(['lock', '--help']).status, 0);
    assert.equal(files().filter((f) => f.startsWith('cli-lock-')).length, 1);
  });

  it('runs the same from a damaged cache, and replaces it', function () {
    cli(['--version']);
    const [name] = files();
    const file = join(cache, name as string);
    writeFileSync(file, Buffer.alloc(4096, 7), { mode: 0o600 });
    const r = cli(['--version']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), '0.1.0');
    assert.notDeepEqual(readFileSync(file), Buffer.alloc(4096, 7), 'V8 rejected it, so it is written anew');
  });

  it('never reads a cache file or folder that others can write, and takes none with "off"', function () {
    if (process.platform === 'win32') this.skip();
    cli(['--version']);
    const [name] = files();
    const file = join(cache, name as string);
    const foreign = Buffer.alloc(2048, 1);
    writeFileSync(file, foreign);
    chmodSync(file, 0o666);
    cli(['--version']);
    // Not read: written anew, private.
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.notDeepEqual(readFileSync(file), foreign);
    // A folder others can write: nothing is read from it or written to it.
    chmodSync(cache, 0o777);
    rmSync(file);
    cli(['--version']);
    assert.deepEqual(files(), []);
    rmSync(cache, { recursive: true });
    assert.equal(cli(['--version'], { DOCKER_STABILITY_CODE_CACHE: 'off' }).stdout.trim(), '0.1.0');
    assert.equal(existsSync(cache), false);
  });

  it("drops a command's cache of another build when it writes the new one", function () {
    const copy = join(dir, 'dist');
    mkdirSync(copy);
    for (const f of ['cli.js', 'cli-main.js', 'docker-ssh.js']) copyFileSync(join(DIST, f), join(copy, f));
    const entry = join(copy, 'cli.js');
    assert.equal(cli(['--version'], {}, entry).status, 0);
    const [old] = files();
    appendFileSync(join(copy, 'cli-main.js'), '\n// another build\n');
    assert.equal(cli(['--version'], {}, entry).stdout.trim(), '0.1.0');
    const now = files();
    assert.equal(now.length, 1, now.join(', '));
    assert.notEqual(now[0], old);
  });
});
