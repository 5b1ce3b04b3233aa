import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { isPidAlive } from '../../../src/core/lock';

describe('isPidAlive', () => {
  it('says alive for this process, dead for an exited one, and unknown for pids that address groups', async () => {
    assert.equal(isPidAlive(process.pid), true);
    const child = spawn(process.execPath, ['-e', '0']);
    const pid = child.pid as number;
    await new Promise((r) => child.on('exit', r));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(isPidAlive(pid), false);
    assert.equal(isPidAlive(0), undefined);
    assert.equal(isPidAlive(-1), undefined);
  });

  it('counts a zombie (killed, not yet reaped by its parent) as dead', async function () {
    if (process.platform !== 'linux') this.skip(); // /proc tells zombies apart only on Linux
    // The grandchild exits after the shell has exec'd sleep, which never reaps it, so it stays a
    // zombie. (Exiting at once raced the exec: under load the shell reaped it first.)
    const parent = spawn('sh', ['-c', 'sleep 0.5 & echo $!; exec sleep 10']);
    try {
      const pid = await new Promise<number>((resolve) =>
        parent.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))),
      );
      const state = (): string | undefined => {
        try {
          const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
          return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
        } catch {
          return undefined;
        }
      };
      const deadline = Date.now() + 10_000;
      while (state() !== 'Z' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.equal(state(), 'Z', 'the grandchild became a zombie');
      let signalable = true;
      try {
        process.kill(pid, 0);
      } catch {
        signalable = false;
      }
      assert.equal(
        signalable,
        true,
        'the zombie is still signalable, which is why kill(pid, 0) alone is not enough',
      );
      assert.equal(isPidAlive(pid), false);
    } finally {
      parent.kill('SIGKILL');
    }
  });
});
