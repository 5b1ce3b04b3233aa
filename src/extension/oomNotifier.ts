// A notification when the daemon OOM-kills a container the user owns: one of a docker-stability
// run, of a testcontainers session, or of a compose project of this workspace. Rate-limited
// (one per container per 10 minutes, three a minute in all) so a squeeze of many containers
// does not bury the window, and off with a setting.
import type { Incident } from '../core/incidents/types';
import { ownerLabel } from '../shared/owner';
import type { Owner } from '../shared/monitor';

const PER_CONTAINER_MS = 10 * 60_000;
const PER_MINUTE = 3;

export interface OomNotifierOptions {
  enabled(): boolean;
  /** Compose project names of this workspace (compose's default: the folder's name). */
  workspaceProjects(): readonly string[];
  show(message: string): void;
  /** The log line for one suppressed by the rate limit. */
  suppressed(message: string): void;
  now?: () => number;
}

/** The project name compose derives from a folder name: lower case, only [a-z0-9_-]. */
export function composeProjectName(folder: string): string {
  return folder.toLowerCase().replace(/[^a-z0-9_-]/g, '');
}

export class OomNotifier {
  private readonly seen = new Set<string>();
  private readonly lastPerContainer = new Map<string, number>();
  private recent: number[] = [];
  /** Incidents from before this window started are history, not news. */
  private readonly since: number;
  /** What was shown, newest last (the test API reads it). */
  readonly shown: string[] = [];

  constructor(private readonly opts: OomNotifierOptions) {
    this.since = this.now();
  }

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  owns(o: Owner): boolean {
    if (o.kind === 'run' || o.kind === 'testcontainers') return true;
    if (o.kind !== 'compose') return false;
    // runs' compose projects are named dstab-<category>-<run id>
    return o.id.startsWith('dstab-') || this.opts.workspaceProjects().includes(o.id);
  }

  /** Looks at incidents as they are learnt (the same one may come again with the next list). */
  consider(incidents: readonly Incident[]): void {
    for (const i of incidents) {
      if (i.kind !== 'oom' || !i.container) continue;
      const key = `${i.at}|${i.container.id}`;
      if (this.seen.has(key)) continue;
      this.seen.add(key);
      if (Date.parse(i.at) < this.since - 5_000 || !this.owns(i.container.owner) || !this.opts.enabled())
        continue;
      this.notify(i, i.container.id);
    }
  }

  private notify(i: Incident, id: string): void {
    const c = i.container!;
    const message = `Container ${c.name} (${ownerLabel(c.owner)}) was killed: out of memory${i.mainProcessKilled === false ? ' (a process inside it)' : ''}.`;
    const now = this.now();
    this.recent = this.recent.filter((t) => now - t < 60_000);
    const last = this.lastPerContainer.get(id);
    if ((last !== undefined && now - last < PER_CONTAINER_MS) || this.recent.length >= PER_MINUTE) {
      this.opts.suppressed(message);
      return;
    }
    this.lastPerContainer.set(id, now);
    this.recent.push(now);
    this.shown.push(message);
    this.opts.show(message);
  }
}
