import { promises as fsp, readFileSync } from 'node:fs';
import { join } from 'node:path';

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

/**
 * Reads container CPU and memory counters directly from the cgroup filesystem, as cAdvisor
 * does: no daemon round trip, no stats collector. Only meaningful when the daemon runs on this
 * machine; a container whose cgroup is not found here returns undefined and the caller falls
 * back to the stats API (Docker Desktop, rootless, remote engines).
 *
 * Layouts: v1 `<ctl>/docker/<id>` (cgroupfs) or `<ctl>/system.slice/docker-<id>.scope`
 * (systemd); v2 `/docker/<id>` or `/system.slice/docker-<id>.scope` in the unified tree.
 */
export class CgroupReader {
  private readonly paths = new Map<string, Paths | null>();
  private version: 1 | 2 | undefined | null;

  constructor(private readonly root = '/sys/fs/cgroup') {}

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

  private async pathsFor(id: string): Promise<Paths | undefined> {
    const cached = this.paths.get(id);
    if (cached !== undefined) return cached ?? undefined;
    const version = await this.detectVersion();
    let found: Paths | null = null;
    if (version === 1) {
      for (const rel of [join('docker', id), join('system.slice', `docker-${id}.scope`)]) {
        const mem = join(this.root, 'memory', rel);
        const cpu = join(this.root, 'cpuacct', rel);
        if (
          (await exists(join(mem, 'memory.usage_in_bytes'))) &&
          (await exists(join(cpu, 'cpuacct.usage')))
        ) {
          found = {
            cpuFile: join(cpu, 'cpuacct.usage'),
            cpuUnit: 'ns',
            memUsageFile: join(mem, 'memory.usage_in_bytes'),
            memStatFile: join(mem, 'memory.stat'),
            inactiveKey: 'total_inactive_file',
          };
          break;
        }
      }
    } else if (version === 2) {
      for (const rel of [join('system.slice', `docker-${id}.scope`), join('docker', id)]) {
        const dir = join(this.root, rel);
        if (await exists(join(dir, 'memory.current'))) {
          found = {
            cpuFile: join(dir, 'cpu.stat'),
            cpuUnit: 'usec-stat',
            memUsageFile: join(dir, 'memory.current'),
            memStatFile: join(dir, 'memory.stat'),
            inactiveKey: 'inactive_file',
          };
          break;
        }
      }
    }
    this.paths.set(id, found);
    return found ?? undefined;
  }
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
