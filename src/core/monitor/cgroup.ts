import { promises as fsp, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KNOWN_PARENTS, MAX_PARENTS, type CpuSeed } from './cpuSeed';

/** Cumulative counters of one container read straight from the cgroup filesystem. */
export interface CgroupReading {
  cpuNs: number;
  memoryBytes: number;
  atNs: bigint;
}

interface Paths {
  cpuFile: string;
  cpuUnit: 'ns' | 'usec-stat';
  memUsageFile: string;
  memStatFile: string;
  inactiveKey: string;
}

const PARENTS_TTL_MS = 5_000;

/**
 * Reads container CPU and memory counters directly from the cgroup filesystem, as cAdvisor
 * does: no daemon round trip, no stats collector. Only meaningful when the daemon runs on this
 * machine; a container whose cgroup is not found here returns undefined and the caller falls
 * back to the stats API (Docker Desktop, rootless, remote engines).
 *
 * Layouts: v1 `<ctl>/docker/<id>` (cgroupfs) or `<ctl>/system.slice/docker-<id>.scope`
 * (systemd); v2 `/docker/<id>` or `/system.slice/docker-<id>.scope` in the unified tree; and
 * `<parent>/<id>` one level down for a container with a cgroup parent of its own (cgroupfs).
 */
export class CgroupReader {
  private readonly paths = new Map<string, Paths | null>();
  private version: 1 | 2 | undefined | null;

  private readonly seed: CpuSeed['counters'] | undefined;
  private parentList: { base: string; at: number; names: string[] } | undefined;

  /** With `seed` (read from the same root), a container's first CPU reading may be the seed's. */
  constructor(
    private readonly root = '/sys/fs/cgroup',
    seed?: CpuSeed,
  ) {
    this.seed = seed && seed.root === root ? new Map(seed.counters) : undefined;
  }

  /**
   * The seed's reading of a container, once, when it is of the file this reader reads (its
   * paths resolved by a read first): an earlier reading for its first CPU rate.
   */
  seeded(id: string): Pick<CgroupReading, 'cpuNs' | 'atNs'> | undefined {
    const s = this.seed?.get(id);
    if (!s) return undefined;
    this.seed?.delete(id);
    return this.paths.get(id)?.cpuFile === s.file ? { cpuNs: s.cpuNs, atNs: s.atNs } : undefined;
  }

  /** True when a cgroup hierarchy is readable here at all. */
  async available(): Promise<boolean> {
    return (await this.detectVersion()) !== null;
  }

  private async detectVersion(): Promise<1 | 2 | null> {
    if (this.version !== undefined) return this.version;
    if (await exists(join(this.root, 'cgroup.controllers'))) this.version = 2;
    else if (await exists(join(this.root, 'memory'))) this.version = 1;
    else this.version = null;
    return this.version;
  }

  async read(id: string): Promise<CgroupReading | undefined> {
    const p = await this.pathsFor(id);
    if (!p) return undefined;
    try {
      const atNs = process.hrtime.bigint();
      // Synchronous on purpose: these are tiny in-memory kernel files, and three async reads
      // per container cost about ten times the CPU (at 100 containers ~45 ms against ~5 ms a
      // sample here, which alone was over 2% of a core at the 2 s interval).
      const cpuText = readFileSync(p.cpuFile, 'utf8');
      const usageText = readFileSync(p.memUsageFile, 'utf8');
      const statText = readFileSync(p.memStatFile, 'utf8');
      const cpuNs = p.cpuUnit === 'ns' ? Number(cpuText.trim()) : statValue(cpuText, 'usage_usec') * 1000;
      const usage = Number(usageText.trim());
      const inactive = statValue(statText, p.inactiveKey);
      return { cpuNs, memoryBytes: inactive < usage ? usage - inactive : usage, atNs };
    } catch {
      // the container stopped between listing and reading: forget its paths
      this.paths.delete(id);
      return undefined;
    }
  }

  /** Drops cached paths of containers no longer running. */
  retain(ids: Set<string>): void {
    for (const id of this.paths.keys()) if (!ids.has(id)) this.paths.delete(id);
  }

  /**
   * The other folders at the top of a hierarchy: a container started with `--cgroup-parent=/NAME`
   * (a memory budget for test runs, as the admission bench sets) has its cgroup at `NAME/<id>`.
   * Listed once every few seconds, not for each container.
   */
  private async parents(base: string): Promise<string[]> {
    const now = Date.now();
    if (this.parentList && this.parentList.base === base && now - this.parentList.at < PARENTS_TTL_MS)
      return this.parentList.names;
    const entries = await fsp.readdir(base, { withFileTypes: true }).catch(() => []);
    const names = entries
      .filter((e) => e.isDirectory() && !KNOWN_PARENTS.has(e.name))
      .map((e) => e.name)
      .slice(0, MAX_PARENTS);
    this.parentList = { base, at: now, names };
    return names;
  }

  private async pathsFor(id: string): Promise<Paths | undefined> {
    const cached = this.paths.get(id);
    if (cached !== undefined) return cached ?? undefined;
    const version = await this.detectVersion();
    let found: Paths | null = null;
    if (version === 1) {
      const v1 = async (rel: string): Promise<Paths | null> => {
        const mem = join(this.root, 'memory', rel);
        const cpu = join(this.root, 'cpuacct', rel);
        if (
          !(await exists(join(mem, 'memory.usage_in_bytes'))) ||
          !(await exists(join(cpu, 'cpuacct.usage')))
        )
          return null;
        return {
          cpuFile: join(cpu, 'cpuacct.usage'),
          cpuUnit: 'ns',
          memUsageFile: join(mem, 'memory.usage_in_bytes'),
          memStatFile: join(mem, 'memory.stat'),
          inactiveKey: 'total_inactive_file',
        };
      };
      found =
        (await firstOf([join('docker', id), join('system.slice', `docker-${id}.scope`)], v1)) ??
        (await firstOf(
          (await this.parents(join(this.root, 'memory'))).map((p) => join(p, id)),
          v1,
        ));
    } else if (version === 2) {
      const v2 = async (rel: string): Promise<Paths | null> => {
        const dir = join(this.root, rel);
        if (!(await exists(join(dir, 'memory.current')))) return null;
        return {
          cpuFile: join(dir, 'cpu.stat'),
          cpuUnit: 'usec-stat',
          memUsageFile: join(dir, 'memory.current'),
          memStatFile: join(dir, 'memory.stat'),
          inactiveKey: 'inactive_file',
        };
      };
      found =
        (await firstOf([join('system.slice', `docker-${id}.scope`), join('docker', id)], v2)) ??
        (await firstOf(
          (await this.parents(this.root)).map((p) => join(p, id)),
          v2,
        ));
    }
    this.paths.set(id, found);
    return found ?? undefined;
  }
}

/** The first of `rels` that `probe` finds, tried in order. */
async function firstOf(rels: string[], probe: (rel: string) => Promise<Paths | null>): Promise<Paths | null> {
  for (const rel of rels) {
    const p = await probe(rel);
    if (p) return p;
  }
  return null;
}

function statValue(text: string, key: string): number {
  const m = new RegExp(`^${key} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

async function exists(p: string): Promise<boolean> {
  try {
    await fsp.access(p);
    return true;
  } catch {
    return false;
  }
}
