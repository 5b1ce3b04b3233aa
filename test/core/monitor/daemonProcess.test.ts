import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  daemonPids,
  findDaemonProcess,
  processCpuMs,
  processStartMs,
} from '../../../src/core/monitor/daemonProcess';

/** A /proc tree with the files the reader looks at: a pid's stat, comm, fds and children. */
function fakeProc(): string {
  const proc = mkdtempSync(join(tmpdir(), 'dstab-proc-'));
  writeFileSync(join(proc, 'stat'), 'cpu  1 2 3\nbtime 1764633600\nprocesses 9\n');
  mkdirSync(join(proc, 'net'));
  writeFileSync(
    join(proc, 'net', 'unix'),
    [
      'Num       RefCount Protocol Flags    Type St Inode Path',
      '0000000000000000: 00000002 00000000 00010000 0001 01 4242 /run/other.sock',
      '0000000000000000: 00000002 00000000 00010000 0001 01 1180725 /var/run/docker.sock',
      '0000000000000000: 00000003 00000000 00000000 0001 03 1180999 /var/run/docker.sock',
    ].join('\n'),
  );
  const pid = (
    n: number,
    comm: string,
    startTicks: number,
    utime: number,
    stime: number,
    fds: string[],
  ): void => {
    const dir = join(proc, String(n));
    mkdirSync(join(dir, 'fd'), { recursive: true });
    mkdirSync(join(dir, 'task', String(n)), { recursive: true });
    writeFileSync(join(dir, 'comm'), `${comm}\n`);
    // pid (comm) state ppid ... : utime is field 14, stime 15, starttime 22
    const fields = [
      'S',
      '1',
      ...Array(9).fill('0'),
      String(utime),
      String(stime),
      ...Array(6).fill('0'),
      String(startTicks),
    ];
    writeFileSync(join(dir, 'stat'), `${n} (${comm} (x)) ${fields.join(' ')} 0 0\n`);
    fds.forEach((target, i) => symlinkSync(target, join(dir, 'fd', String(i))));
  };
  pid(1, 'systemd', 10, 0, 0, ['socket:[1180725]']); // socket activation holds it too
  pid(300, 'dockerd', 12_345, 150, 50, ['/dev/null', 'socket:[1180725]']);
  pid(310, 'containerd', 12_400, 10, 10, []);
  pid(400, 'sleep', 20_000, 0, 0, ['socket:[4242]']);
  pid(500, 'containerd-shim', 20_100, 1, 1, []);
  writeFileSync(join(proc, '300', 'task', '300', 'children'), '310 400 ');
  return proc;
}

describe('the local dockerd from /proc', () => {
  let proc: string;
  before(() => (proc = fakeProc()));
  after(() => rmSync(proc, { recursive: true, force: true }));

  it('finds the dockerd holding the listening socket, not systemd, and reads its start time', async () => {
    const d = await findDaemonProcess('/var/run/docker.sock', { proc, pidFile: join(proc, 'none.pid') });
    assert.deepEqual(d, { pid: 300, startedAtMs: 1764633600_000 + 123_450 });
    assert.equal(processStartMs(300, proc), 1764633600_000 + 123_450);
    assert.equal(processCpuMs(300, proc), 2000, '150 + 50 ticks of 10 ms');
    assert.deepEqual(daemonPids(300, proc), [300, 310, 500], 'dockerd, its containerd, and every shim');
  });

  it('answers nothing for a socket no dockerd listens on, and a pidfile naming no dockerd', async () => {
    writeFileSync(join(proc, 'sleep.pid'), '400\n');
    assert.equal(
      await findDaemonProcess('/run/other.sock', { proc, pidFile: join(proc, 'sleep.pid') }),
      undefined,
    );
    assert.equal(processStartMs(999, proc), undefined);
  });

  it('falls back to the pidfile when no holder is found', async () => {
    writeFileSync(join(proc, 'docker.pid'), '300\n');
    const d = await findDaemonProcess('/run/elsewhere.sock', { proc, pidFile: join(proc, 'docker.pid') });
    assert.equal(d?.pid, 300);
  });
});
