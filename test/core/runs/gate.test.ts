import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runCommand, startCommand } from '../../../src/core/runs/command';
import { hasProcessGroups } from '../../../src/core/util/platform';
import { CLI } from './helpers';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` every 20 ms, failing after `timeoutMs` (a bound against hanging). */
async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/**
 * A gated command: its process group exists at once (a lock records it), but nothing of the
 * command runs before `open()`, so a holder killed at any moment leaves either no command or one
 * whose group the lock knows.
 */
describe('runs: a command gated until its process group is recorded', function () {
  this.timeout(30_000);
  let dir = '';
  before(function () {
    if (!hasProcessGroups()) this.skip(); // no process groups, no gate: the command runs at once
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ds-gate-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('runs nothing before open(), then the command itself, with its arguments, in the group it was given', async () => {
    const marker = join(dir, 'ran');
    const c = startCommand(['sh', '-c', 'echo "$$ $1" > "$0"', marker, 'an argument'], {
      gated: true,
      stdio: 'ignore',
    });
    assert.ok(c.pgid !== undefined);
    await sleep(300);
    assert.equal(existsSync(marker), false, 'nothing ran before open()');
    c.open();
    c.open();
    assert.deepEqual(await c.ended, {
      command: ['sh', '-c', 'echo "$$ $1" > "$0"', marker, 'an argument'],
      exitCode: 0,
      signal: null,
    });
    assert.equal(readFileSync(marker, 'utf8'), `${c.pgid} an argument\n`, 'the command is the group leader');
  });

  it('a parent killed before open() leaves no command running, ever', async () => {
    const marker = join(dir, 'ran');
    const commandJs = resolve(__dirname, '../../../src/core/runs/command.js');
    const script = `
      const { startCommand } = require(${JSON.stringify(commandJs)});
      const c = startCommand(['sh', '-c', 'touch "$0"', ${JSON.stringify(marker)}], { gated: true, stdio: 'ignore' });
      process.stdout.write(String(c.pgid) + '\\n');
      setTimeout(() => process.kill(process.pid, 'SIGKILL'), 50);
    `;
    const parent = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    parent.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await new Promise((r) => parent.once('exit', r));
    const pgid = Number(out.trim());
    assert.ok(pgid > 1, out);
    // The gate reads the end of its pipe and exits 125: the group is soon empty.
    await until(
      () => {
        try {
          process.kill(-pgid, 0);
          return false;
        } catch {
          return true;
        }
      },
      5_000,
      'the gated group to end',
    );
    assert.equal(existsSync(marker), false, 'the command never ran');
  });

  it('a missing or non-executable command is told apart before any process starts, as spawn tells it', async () => {
    const missing = startCommand([join(dir, 'nope')], { gated: true, stdio: 'ignore' });
    assert.equal((missing.error as NodeJS.ErrnoException | undefined)?.code, 'ENOENT');
    assert.equal((await missing.ended).exitCode, 127);
    const file = join(dir, 'not-executable.sh');
    writeFileSync(file, '#!/bin/sh\n');
    chmodSync(file, 0o644);
    const denied = startCommand([file], { gated: true, stdio: 'ignore' });
    assert.equal((denied.error as NodeJS.ErrnoException | undefined)?.code, 'EACCES');
    assert.equal((await denied.ended).exitCode, 126);
    const inPath = startCommand(['definitely-not-a-command-here'], { gated: true, stdio: 'ignore' });
    assert.equal((await inPath.ended).exitCode, 127);
  });

  it('runCommand runs the command only once onStart has resolved', async () => {
    const marker = join(dir, 'ran');
    let seenBefore: boolean | undefined;
    const outcome = await runCommand(
      ['sh', '-c', 'touch "$0"', marker],
      {},
      {
        stdio: 'ignore',
        onStart: async () => {
          await sleep(200);
          seenBefore = existsSync(marker);
        },
      },
    );
    assert.equal(outcome.exitCode, 0);
    assert.equal(seenBefore, false);
    assert.equal(existsSync(marker), true);
  });

  it("lock run: when the command starts, the lock's metadata already names its process group (10 runs)", async () => {
    const locks = join(dir, 'locks');
    // A shell that looks at once (a few ms after its start): is its own pid, the group's leader,
    // the recorded pgid? Before the gate, 4 in 10 such starts came before the record.
    const probe = `grep -Eq '"pgid": '$$'(,|$)' ${JSON.stringify(join(locks, 'test.json'))} && echo recorded || echo missing`;
    const seen: string[] = [];
    for (let i = 0; i < 10; i++) {
      const child = spawn(
        process.execPath,
        [CLI, 'lock', 'run', '--dir', locks, '--name', 'test', '--', 'sh', '-c', probe],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const code = await new Promise((r) => child.once('exit', r));
      assert.equal(code, 0, err);
      seen.push(out.trim());
    }
    assert.deepEqual(seen, Array(10).fill('recorded'));
  });
});
