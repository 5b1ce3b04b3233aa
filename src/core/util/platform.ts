// Where Windows differs, said once with the platform as a parameter, so both branches are
// unit-tested on any machine (CI's Linux runs the Windows branch too).

/**
 * Whether a child can be given a process group of its own (spawn `detached`) and signalled as
 * one (`kill(-pgid)`). Windows has no process groups: `detached` there opens a new console.
 */
export function hasProcessGroups(platform: NodeJS.Platform = process.platform): boolean {
  return platform !== 'win32';
}

/**
 * Whether a failed rename is worth retrying: Windows refuses one while another process has the
 * target open (EPERM, EACCES) and lets it through a moment later; elsewhere such an error is final.
 */
export function isTransientRenameError(
  code: string | undefined,
  attempt: number,
  platform: NodeJS.Platform = process.platform,
): boolean {
  return platform === 'win32' && attempt < 5 && (code === 'EPERM' || code === 'EACCES');
}

/**
 * How `lock release` ends the keeper that a lock's metadata names. That metadata lives in a
 * folder others can write, so its pid is untrusted. Linux's /proc proves a pid is the very keeper
 * that recorded itself (its start time and command line), and that process is sent SIGTERM.
 * Elsewhere nothing proves it (macOS has no /proc; on Windows a "signal" is TerminateProcess of
 * whatever has the pid), so no process is signalled: the keeper acts on a release request naming
 * its own token.
 */
export function keeperStop(platform: NodeJS.Platform = process.platform): 'signal' | 'request' {
  return platform === 'linux' ? 'signal' : 'request';
}
