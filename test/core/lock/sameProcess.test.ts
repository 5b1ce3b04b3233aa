import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { isSameProcessAlive, processStartTime, processState } from '../../../src/core/lock/process';
import { sleep } from './helpers';

/** Polls until cond holds, failing after timeoutMs with what was awaited. */
async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await sleep(20);
  }
}

/** A start time no process has: one tick after the real one. */
const another = (start: string): string => String(BigInt(start) + 1n);

describe('isSameProcessAlive: the recorded process, not just its pid', function () {
  this.timeout(30_000);
  const children: ChildProcess[] = [];
  const child = (cmd: string, args: string[]): ChildProcess => {
    const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    children.push(c);
    return c;
  };
  afterEach(() => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });
  before(function () {
    if (process.platform !== 'linux') this.skip(); // start times and zombies come from /proc
  });

  it('this process, with its own start time or none, is alive', () => {
    const start = processStartTime(process.pid);
    assert.ok(start !== undefined);
    assert.equal(isSameProcessAlive(process.pid, start), true);
    assert.equal(isSameProcessAlive(process.pid, undefined), true);
  });

  it("this process's pid with another start time is another process (a dead holder whose pid this process now has)", () => {
    const start = processStartTime(process.pid) as string;
    assert.equal(isSameProcessAlive(process.pid, another(start)), false);
  });

  it('a live child with its real start time is alive; with another start time it is another process', async () => {
    const c = child(process.execPath, ['-e', 'setTimeout(() => {}, 20000)']);
    const pid = c.pid as number;
    const start = processStartTime(pid);
    assert.ok(start !== undefined);
    assert.equal(isSameProcessAlive(pid, start), true);
    assert.equal(isSameProcessAlive(pid, another(start)), false);
    assert.equal(isSameProcessAlive(pid, undefined), true);
  });

  it('a killed and reaped child is dead, with or without its start time', async () => {
    const c = child(process.execPath, ['-e', 'setTimeout(() => {}, 20000)']);
    const pid = c.pid as number;
    const start = processStartTime(pid) as string;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await exited;
    await until(() => processState(pid) === undefined, 10_000, 'the child to be reaped');
    assert.equal(isSameProcessAlive(pid, start), false);
    assert.equal(isSameProcessAlive(pid, undefined), false);
  });

  it('a zombie (exited, not reaped by its parent) with its real start time is dead', async () => {
    // Node reaps its own children at once, so the zombie is a grandchild: it exits after the shell
    // has exec'd sleep, which never reaps it.
    const parent = child('sh', ['-c', 'sleep 0.5 & echo $!; exec sleep 20']);
    const pid = await new Promise<number>((resolve) =>
      parent.stdout?.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))),
    );
    const start = processStartTime(pid);
    assert.ok(start !== undefined, 'read while it still ran');
    await until(() => processState(pid) === 'Z', 10_000, 'the grandchild to become a zombie');
    assert.equal(processStartTime(pid), start, 'a zombie keeps its start time: only its state tells');
    assert.equal(isSameProcessAlive(pid, start), false);
  });

  it('pids that address process groups, or are no pids, are not judged', () => {
    for (const pid of [0, -1, 1.5, Number.NaN]) assert.equal(isSameProcessAlive(pid, '123'), undefined);
  });
});
