import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The first of the two readings a CPU rate needs, taken early: the cumulative CPU counter of
 * every container cgroup found, each with the moment it was read. A run's first sample then
 * measures its CPU window from here, so the window overlaps what the run does before it needs
 * the sample (Node loading the CLI, the lock) instead of being waited for afterwards (issue 17).
 * Found by listing the cgroup folders, not asking the daemon: nothing to wait for, and a
 * container the daemon lists that has no counter here is read the usual way. For v1 the
 * cpuacct controller is listed where CgroupReader finds a layout through the memory one: the
 * seed's file is used only when it is the one CgroupReader resolved.
 */
export interface CpuSeed {
  root: string;
  /** By container id: the counter file (as CgroupReader resolves it) and its value in ns. */
  counters: Map<string, { file: string; cpuNs: number; atNs: bigint }>;
  /** When the first counter was read (process.hrtime). */
  atNs: bigint;
}

const ID = /^[0-9a-f]{64}$/;
const SCOPE = /^docker-([0-9a-f]{64})\.scope$/;
/** Enough for any test host; beyond it the rest is read the usual way. */
const MAX_SEEDED = 2000;
/** Folders the cgroup layouts name (`system.slice` and `docker` are tried first, by name). */
export const KNOWN_PARENTS: ReadonlySet<string> = new Set(['docker', 'system.slice']);
/** A host with more top-level cgroups than this is not a test host: the rest are not looked into. */
export const MAX_PARENTS = 200;

/** Reads every container's CPU counter under `root` (synchronous: tiny kernel files). Undefined without cgroups. */
export function readCpuSeed(root = '/sys/fs/cgroup'): CpuSeed | undefined {
  if (process.platform !== 'linux') return undefined;
  const atNs = process.hrtime.bigint();
  const counters: CpuSeed['counters'] = new Map();
  let v2: boolean;
  try {
    readFileSync(join(root, 'cgroup.controllers'));
    v2 = true;
  } catch {
    v2 = false;
  }
  // The same layouts, and for v1 the same controller, as CgroupReader (cgroup.ts).
  const base = v2 ? root : join(root, 'cpuacct');
  const file = v2 ? 'cpu.stat' : 'cpuacct.usage';
  // And one level down under any other folder: containers with a cgroup parent (`NAME/<id>`).
  let others: string[] = [];
  try {
    others = readdirSync(base, { withFileTypes: true })
      .filter((e) => e.isDirectory() && !KNOWN_PARENTS.has(e.name))
      .map((e) => e.name)
      .slice(0, MAX_PARENTS);
  } catch {
    // no hierarchy here
  }
  for (const [folder, pattern] of [
    ['docker', ID],
    ['system.slice', SCOPE],
    ...others.map((o) => [o, ID] as const),
  ] as const) {
    let names: string[];
    try {
      names = readdirSync(join(base, folder));
    } catch {
      continue;
    }
    for (const name of names) {
      if (counters.size >= MAX_SEEDED) break;
      const id = pattern === ID ? (ID.test(name) ? name : undefined) : SCOPE.exec(name)?.[1];
      if (!id || counters.has(id)) continue;
      const path = join(base, folder, name, file);
      try {
        const at = process.hrtime.bigint();
        const text = readFileSync(path, 'utf8');
        const cpuNs = v2 ? Number(/^usage_usec (\d+)$/m.exec(text)?.[1]) * 1000 : Number(text.trim());
        if (Number.isFinite(cpuNs)) counters.set(id, { file: path, cpuNs, atNs: at });
      } catch {
        // gone since the listing
      }
    }
  }
  return counters.size > 0 ? { root, counters, atNs } : undefined;
}

// On globalThis under a registered symbol: the CLI's entry point takes the seed and the CLI's
// bundle (a separate file with its own copy of this module) uses it.
const KEY = Symbol.for('docker-stability.cpuSeed');
type Holder = { [KEY]?: CpuSeed };

/** Takes a seed now and keeps it for this process's next run (see takeProcessCpuSeed). */
export function seedProcessCpu(root?: string): void {
  const seed = readCpuSeed(root);
  if (seed) (globalThis as Holder)[KEY] = seed;
}

/**
 * The seed this process took earlier, once (a second run takes its own), when it is at most
 * `maxAgeMs` old: a rate over a longer window would no longer be the daemon's CPU now.
 */
export function takeProcessCpuSeed(maxAgeMs: number): CpuSeed | undefined {
  const g = globalThis as Holder;
  const seed = g[KEY];
  delete g[KEY];
  if (!seed) return undefined;
  return seedAgeMs(seed) <= maxAgeMs ? seed : undefined;
}

export function seedAgeMs(seed: CpuSeed, nowNs = process.hrtime.bigint()): number {
  return Number(nowNs - seed.atNs) / 1e6;
}
