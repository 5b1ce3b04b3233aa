/** The signals after which withLock releases before the process ends. */
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
/** A release that hangs (a dead network share) must not stop the process from ending. */
const RELEASE_CAP_MS = 3_000;

const active = new Set<() => Promise<void>>();
let installed = false;

function onSignal(signal: NodeJS.Signals): void {
  const releases = [...active];
  active.clear();
  uninstall();
  const cap = new Promise<void>((resolve) => setTimeout(resolve, RELEASE_CAP_MS).unref());
  void Promise.race([Promise.allSettled(releases.map((r) => r())), cap]).then(() => {
    // Our handlers are gone: raising the signal again ends the process as it would have without
    // us (other listeners, if any, decide instead). proper-lockfile's signal-exit hook is one of
    // them, and it re-raises once it is the last listener.
    process.kill(process.pid, signal);
  });
}

function install(): void {
  if (installed) return;
  installed = true;
  for (const s of SIGNALS) process.on(s, onSignal);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  for (const s of SIGNALS) process.removeListener(s, onSignal);
}

/**
 * Registers a release to run on SIGINT/SIGTERM while a lock is held; the returned function
 * unregisters it (and removes the handlers when no lock is left), so nothing lingers afterwards.
 */
export function releaseOnSignal(release: () => Promise<void>): () => void {
  active.add(release);
  install();
  return () => {
    active.delete(release);
    if (active.size === 0) uninstall();
  };
}
