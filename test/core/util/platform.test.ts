import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, statSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { proxySocketBase } from '../../../src/core/docker/ownershipProxy';
import { unsafeFolder } from '../../../src/core/lock/holders';
import { defaultLockDir, stateDir } from '../../../src/core/paths';
import { hasProcessGroups, isTransientRenameError, keeperStop } from '../../../src/core/util/platform';

// Each platform-specific path, both branches, on whatever machine runs the tests (the named-pipe
// endpoint is in endpoint.test.ts).
describe('platform-specific paths, each branch tested on any platform', () => {
  it('no process groups on Windows: a command is signalled by its pid there, by its group elsewhere', () => {
    assert.equal(hasProcessGroups('linux'), true);
    assert.equal(hasProcessGroups('darwin'), true);
    assert.equal(hasProcessGroups('win32'), false);
  });

  it('signals a lock keeper only where /proc proves the pid is ours (Linux); elsewhere asks the keeper by its token', () => {
    assert.equal(keeperStop('linux'), 'signal');
    assert.equal(keeperStop('darwin'), 'request');
    assert.equal(keeperStop('win32'), 'request');
    assert.equal(keeperStop('freebsd'), 'request');
  });

  it('retries a rename refused with EPERM or EACCES on Windows only, and a bounded number of times', () => {
    assert.equal(isTransientRenameError('EPERM', 0, 'win32'), true);
    assert.equal(isTransientRenameError('EACCES', 4, 'win32'), true);
    assert.equal(isTransientRenameError('EPERM', 5, 'win32'), false);
    assert.equal(isTransientRenameError('ENOENT', 0, 'win32'), false);
    assert.equal(isTransientRenameError('EPERM', 0, 'linux'), false);
    assert.equal(isTransientRenameError(undefined, 0, 'darwin'), false);
  });

  it('puts the proxy socket under /tmp when TMPDIR is too long for a unix socket path, never on Windows', () => {
    const long = `/home/runner/${'x'.repeat(100)}`;
    assert.equal(proxySocketBase('/tmp', 'linux'), '/tmp');
    assert.equal(proxySocketBase('/var/folders/ab/T', 'darwin'), '/var/folders/ab/T');
    assert.equal(proxySocketBase(long, 'linux'), '/tmp');
    assert.equal(proxySocketBase(long, 'darwin'), '/tmp');
    const winTemp = `C:\\Users\\${'u'.repeat(100)}\\AppData\\Local\\Temp`;
    assert.equal(proxySocketBase(winTemp, 'win32'), winTemp);
  });

  it('judges a lock folder’s mode bits on POSIX only: Windows ACLs are not in st.mode', function () {
    if (process.platform === 'win32') this.skip();
    const dir = mkdtempSync(join(tmpdir(), 'dstab-platform-'));
    try {
      chmodSync(dir, 0o777);
      const st = statSync(dir);
      assert.match(unsafeFolder(st, 'linux') ?? '', /writable by every user and not sticky/);
      assert.equal(unsafeFolder(st, 'win32'), undefined);
      chmodSync(dir, 0o1777);
      assert.equal(unsafeFolder(statSync(dir), 'linux'), undefined, 'a sticky folder (like /tmp) is fine');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps state in LOCALAPPDATA on Windows, Application Support on macOS, XDG_STATE_HOME elsewhere', () => {
    const env = { HOME: '/h', LOCALAPPDATA: 'C:\\L', XDG_STATE_HOME: '/x' };
    assert.equal(stateDir(env, 'win32'), join('C:\\L', 'docker-stability'));
    assert.equal(stateDir({ HOME: '/h' }, 'win32'), join('/h', 'AppData', 'Local', 'docker-stability'));
    assert.equal(stateDir(env, 'darwin'), join('/h', 'Library', 'Application Support', 'docker-stability'));
    assert.equal(stateDir(env, 'linux'), join('/x', 'docker-stability'));
    assert.equal(stateDir({ HOME: '/h' }, 'linux'), join('/h', '.local', 'state', 'docker-stability'));
    assert.equal(defaultLockDir(env, 'win32'), join('C:\\L', 'docker-stability', 'locks'));
  });
});
