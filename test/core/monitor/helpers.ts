import { run } from '../../helpers/run';
import { readFile } from 'node:fs/promises';

/** `docker stats --no-stream` for one container: the figure a user would compare with. */
export async function dockerStats(id: string): Promise<{ cpuPercent: number; memoryBytes: number }> {
  const r = await run('docker', ['stats', '--no-stream', '--format', '{{.CPUPerc}}|{{.MemUsage}}', id]);
  if (r.code !== 0) throw new Error(`docker stats failed (${r.code}): ${r.stderr}`);
  const [cpu = '', mem = ''] = r.stdout.trim().split('|');
  return { cpuPercent: Number.parseFloat(cpu), memoryBytes: parseSize(mem.split('/')[0]?.trim() ?? '') };
}

const SIZE_UNITS: Record<string, number> = {
  B: 1,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
  TiB: 1024 ** 4,
};

/** Parses docker's human sizes: `48.75MiB`, `932KiB`, `0B`. */
export function parseSize(text: string): number {
  const m = /^([\d.]+)\s*([KMGT]iB|B)$/.exec(text);
  if (!m) throw new Error(`unrecognised size "${text}"`);
  return Number(m[1]) * (SIZE_UNITS[m[2] as string] as number);
}

/**
 * A container command that puts `mib` MiB into /dev/shm (tmpfs: swap-backed pages on the
 * anonymous LRU, never reclaimable as page cache, so a working-set figure must count them)
 * and then idles. A shell variable of the same size proved unusable as a known amount: busybox
 * ash builds it through temporaries (a 64 MiB variable read 44-93 MiB) and takes seconds.
 */
export function holdMemoryCmd(mib: number): string[] {
  return [
    'sh',
    '-c',
    `dd if=/dev/zero of=/dev/shm/held bs=1M count=${mib} 2>/dev/null; while true; do sleep 3600; done`,
  ];
}

/** Burns one core until killed. */
export const BURN_CMD = ['sh', '-c', 'yes > /dev/null'];

/**
 * Time the processes of a container spent on a CPU and waiting for one (run queue), in ns,
 * from /proc/<pid>/schedstat: an independent account of what a burner got and what it wanted.
 */
export async function schedstat(id: string): Promise<{ runNs: number; waitNs: number; atNs: bigint }> {
  const procs = (await readFile(`/sys/fs/cgroup/cpuacct/docker/${id}/cgroup.procs`, 'utf8'))
    .split('\n')
    .filter(Boolean);
  let runNs = 0;
  let waitNs = 0;
  for (const pid of procs) {
    try {
      const [run = '0', wait = '0'] = (await readFile(`/proc/${pid}/schedstat`, 'utf8')).trim().split(' ');
      runNs += Number(run);
      waitNs += Number(wait);
    } catch {
      // the process exited between listing and reading
    }
  }
  return { runNs, waitNs, atNs: process.hrtime.bigint() };
}
