// Resource monitor benchmark: one warm sample of ResourceMonitor with 10, 50 and 100 running
// containers (cgroup path as used locally, and the stats-API path used for remote engines)
// against `docker stats --no-stream` in the same run; then the CPU the monitoring costs the
// daemon (dockerd + containerd + shims) plus this process at the default 2 s interval, against
// an idle baseline: the cgroup path with consumers, events and disk, the stats-API path with
// its cost budget (default 5% of a core) and without it; and one `/system/df`, which the disk
// figure reads rarely. Prints a Markdown section for BENCHMARKS.md ("## Monitor").
// MONITOR_BENCH_WINDOW_S (default 30) sets the length of each overhead window and
// MONITOR_BENCH_COUNTS (default 10,50,100) the container counts (a quick check: 3 and 4).
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { ResourceMonitor } from '../src/core/monitor/monitor';
import type { MonitorSettings } from '../src/core/monitor/settings';
import type { Sample } from '../src/core/monitor/types';
import { mapLimit } from '../src/core/util/pool';
import { DockerFixture, testClient } from '../test/helpers/docker';

const COUNTS = (process.env.MONITOR_BENCH_COUNTS ?? '10,50,100').split(',').map(Number);
const WINDOW_S = Number(process.env.MONITOR_BENCH_WINDOW_S ?? 30);
const DAEMON_COMMS = new Set(['dockerd', 'containerd', 'containerd-shim', 'containerd-shim-runc-v2']);
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const ms = (n: number): string => (n < 10 ? n.toFixed(1) : n.toFixed(0));
/** Our time as a fraction of docker stats' time: 1/34, or 2.1x when slower. */
const ratio = (docker: number, ours: number): string =>
  ours <= docker ? `1/${(docker / ours).toFixed(1)}` : `${(ours / docker).toFixed(1)}x`;

function runQuiet(cmd: string, args: string[]): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    c.once('error', reject);
    c.once('exit', (code) => resolve(code));
  });
}

/** A busy shared daemon occasionally resets a connection: retry a creation rather than lose the run. */
async function retry<T>(fn: () => Promise<T>, attempts = 3): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= attempts) throw err;
      console.error(`monitor bench: retrying after ${(err as Error).message}`);
      await sleep(500 * i);
    }
  }
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

/** CPU ticks (utime + stime) of the daemon's processes: dockerd, containerd and every shim. */
function daemonTicks(): number {
  let ticks = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      if (!DAEMON_COMMS.has(comm)) continue;
      const fields = stat.slice(close + 2).split(' ');
      // fields[0] is field 3 (state): utime is field 14, stime field 15
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // the process exited while we looked
    }
  }
  return ticks;
}

function ownCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Percent of one core used by the daemon and by this process over `seconds`. */
async function cpuOver(seconds: number): Promise<{ daemon: number; self: number }> {
  const d0 = daemonTicks();
  const s0 = ownCpuMs();
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const wallMs = performance.now() - t0;
  return {
    daemon: (((daemonTicks() - d0) * (1000 / CLK_TCK)) / wallMs) * 100,
    self: ((ownCpuMs() - s0) / wallMs) * 100,
  };
}

async function sampleTimes(
  settings: Partial<MonitorSettings>,
  fallbackPollMs: number | undefined,
  n: number,
  fx: DockerFixture,
): Promise<{ median: number; sample: Sample }> {
  const m = new ResourceMonitor(fx.client, settings, { fallbackPollMs });
  try {
    await m.sampleNow(); // priming: events subscription, first listing, first counters
    const times: number[] = [];
    let last = await m.sampleNow();
    for (let i = 0; i < n; i++) {
      await sleep(settings.statsPath === 'api' ? 1000 : 200); // API frames change once a second
      times.push(await timed(async () => (last = await m.sampleNow())));
    }
    return { median: median(times), sample: last };
  } finally {
    await m.dispose();
  }
}

async function main(): Promise<void> {
  // Generous call timeouts: on a loaded shared daemon starting a container can take over 10 s.
  const fx = new DockerFixture(testClient(120_000));
  const cleanup = async (): Promise<void> => {
    await retry(() => fx.cleanup(), 5).catch((err: Error) =>
      console.error(`bench cleanup failed: ${err.message}`),
    );
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
  const load0 = loadavg();
  const started = new Date();
  const rows: string[] = [];
  let overhead: string[] = [];
  let dfCost = { wallMs: NaN, daemonMs: NaN };
  let budgetSaid = '(no budget state seen)';
  let diskSeen: Sample['disk'];
  let apiCalls = 0;
  let perCallMs = NaN;
  const info = await fx.client.info();
  const version = await fx.client.version();
  try {
    let made = 0;
    for (const n of COUNTS) {
      console.error(`monitor bench: starting ${n - made} more containers`);
      await mapLimit(
        Array.from({ length: n - made }, (_, i) => i),
        4,
        () => retry(() => fx.container({ cmd: ['sleep', '3600'] })),
      );
      made = n;
      await sleep(1000);
      const warm = await sampleTimes({ statsPath: 'auto' }, undefined, 7, fx);
      const relist = await sampleTimes({ statsPath: 'auto' }, 0, 5, fx);
      // a full read every sample (no budget): what one API sample takes
      const api = await sampleTimes({ statsPath: 'api', statsBudgetPercent: 100 }, undefined, 5, fx);
      const api8 = await sampleTimes(
        { statsPath: 'api', statsConcurrency: 8, statsBudgetPercent: 100 },
        undefined,
        3,
        fx,
      );
      const docker: number[] = [];
      for (let i = 0; i < 3; i++)
        docker.push(await timed(() => runQuiet('docker', ['stats', '--no-stream'])));
      const d = median(docker);
      const running = warm.sample.running;
      rows.push(
        `| ${n} (${running} running) | ${ms(warm.median)} ms | ${ms(relist.median)} ms | ${ms(api.median)} ms | ${ms(api8.median)} ms | ${ms(d)} ms | ` +
          `**1/${Math.round(d / warm.median)}** | 1/${Math.round(d / relist.median)} | ${ratio(d, api.median)} |`,
      );
      console.error(`monitor bench: ${rows[rows.length - 1]}`);
    }

    // Overhead at the default interval with the last count of containers. Other suites load the
    // same daemon in bursts, so the window is cut into short rounds (idle, cgroup path, API path
    // back to back) and each mode is compared with the idle window of its own round; the median
    // over rounds is reported with the range.
    // One /system/df with the containers running: what the disk breakdown costs when it is read
    // (every 5 minutes by default, never inside a sample).
    const df0 = daemonTicks();
    const dfMs = await timed(() => fx.client.systemDf());
    dfCost = { wallMs: dfMs, daemonMs: (daemonTicks() - df0) * (1000 / CLK_TCK) };

    // Slices of 20 s at least: the budgeted API path reads every ~10 s, and a slice shorter than
    // that would measure its first read of each slice rather than its rate.
    const rounds = Math.max(1, Math.round(WINDOW_S / 20));
    const slice = WINDOW_S / rounds;
    const monitors = {
      cgroup: new ResourceMonitor(fx.client, { intervalMs: 2000, statsPath: 'auto' }),
      budget: new ResourceMonitor(fx.client, { intervalMs: 2000, statsPath: 'api' }),
      api: new ResourceMonitor(fx.client, { intervalMs: 2000, statsPath: 'api', statsBudgetPercent: 100 }),
    };
    type Mode = keyof typeof monitors;
    const MODES: Mode[] = ['cgroup', 'budget', 'api'];
    const deltas = Object.fromEntries(
      MODES.map((m) => [m, { daemon: [] as number[], self: [] as number[] }]),
    ) as Record<Mode, { daemon: number[]; self: number[] }>;
    const idleAll = { daemon: [] as number[], self: [] as number[] };
    const samplesSeen: Record<Mode, number> = { cgroup: 0, budget: 0, api: 0 };
    const listCalls = (m: ResourceMonitor): number =>
      Object.values(m.inventoryListCalls).reduce((a, b) => a + b, 0);
    const listed: Record<Mode, number> = { cgroup: 0, budget: 0, api: 0 };
    try {
      for (const mode of MODES) {
        const m = monitors[mode];
        m.onSample((s) => {
          samplesSeen[mode]++;
          if (mode === 'budget' && s.budget) budgetSaid = s.budget.reason;
          if (mode === 'cgroup' && s.disk) diskSeen = s.disk;
          if (mode === 'api') apiCalls = s.running;
        });
        await m.sampleNow(); // priming
      }
      const measure = async (
        mode: Mode,
        seconds: number,
        idle: { daemon: number; self: number },
        label: string,
      ) => {
        const m = monitors[mode];
        const calls0 = listCalls(m);
        if (m.state.status === 'paused') m.resume();
        else m.start();
        const r = await cpuOver(seconds);
        m.pause();
        listed[mode] += listCalls(m) - calls0;
        deltas[mode].daemon.push(r.daemon - idle.daemon);
        deltas[mode].self.push(r.self - idle.self);
        console.error(
          `monitor bench: ${label} ${mode}: daemon ${r.daemon.toFixed(2)}% (idle ${idle.daemon.toFixed(2)}%), self ${r.self.toFixed(2)}% (idle ${idle.self.toFixed(2)}%)`,
        );
        await sleep(300); // let a paused monitor's last sample finish outside the next window
      };
      const idleFor = async (seconds: number) => {
        const idle = await cpuOver(seconds);
        idleAll.daemon.push(idle.daemon);
        idleAll.self.push(idle.self);
        return idle;
      };
      for (let round = 0; round < rounds; round++) {
        const idle = await idleFor(slice);
        for (const mode of ['cgroup', 'api'] as const) await measure(mode, slice, idle, `round ${round + 1}`);
      }
      // The budgeted monitor reads every ~10-30 s and a resumed one reads at once: it is measured
      // in longer windows (3 slices), each after an idle slice of its own.
      for (let round = 0; round < Math.max(1, Math.round(rounds / 2)); round++) {
        const idle = await idleFor(slice);
        await measure('budget', slice * 3, idle, `budget round ${round + 1}`);
      }
    } finally {
      await Promise.all(Object.values(monitors).map((m) => m.dispose()));
    }
    const pct = (xs: number[]): string =>
      `${median(xs).toFixed(2)}% (${Math.min(...xs).toFixed(1)} to ${Math.max(...xs).toFixed(1)})`;
    const line = (label: string, mode: Mode): string => {
      const d = deltas[mode];
      const total = d.daemon.map((x, i) => x + (d.self[i] as number));
      return `| ${label} | ${pct(d.daemon)} | ${pct(d.self)} | **${median(total).toFixed(2)}%** | ${samplesSeen[mode]} samples, ${listed[mode]} list calls |`;
    };
    // what one stats call costs the daemon: the estimate the budget uses where /proc cannot tell
    perCallMs = apiCalls ? ((median(deltas.api.daemon) / 100) * 2000) / apiCalls : NaN;
    overhead = [
      `| idle baseline (no monitor), absolute | ${pct(idleAll.daemon)} | ${pct(idleAll.self)} | | |`,
      line('monitor, cgroup path (local default: consumers, events, disk)', 'cgroup'),
      line('monitor, stats API path with the 5% budget (remote engines)', 'budget'),
      line('monitor, stats API path without a budget (as before)', 'api'),
    ];
  } finally {
    await cleanup();
  }
  const load1 = loadavg();
  const cpuModel = cpus()[0]?.model ?? 'unknown';
  console.log(
    [
      '## Monitor',
      '',
      `Run ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC with \`npm run bench -- monitor\`. Machine: ${cpus().length} CPUs (${cpuModel}), ` +
        `${(totalmem() / 1024 ** 3).toFixed(1)} GiB, Node ${process.version}, Docker Engine ${version.Version} (API ${version.ApiVersion}, ` +
        `cgroup v${info.CgroupVersion ?? '?'}, ${info.CgroupDriver ?? '?'} driver). Load average at start ${load0.map((l) => l.toFixed(1)).join(' / ')}, ` +
        `at end ${load1.map((l) => l.toFixed(1)).join(' / ')} (other engineers' suites share the machine).`,
      '',
      'One sample, median of 7 (warm) or 5, each after a priming sample; `docker stats --no-stream` median of 3, same run. ' +
        '"Running" counts every running container on the daemon (other suites run concurrently): both tools measure all of them.',
      '',
      '| bench containers | monitor sample (events, cgroup files) | with a full relist | stats API path (64 in flight) | API path, 8 in flight | `docker stats --no-stream` | ratio | ratio, relist | ratio, API |',
      '|---|---|---|---|---|---|---|---|---|',
      ...rows,
      '',
      `CPU at the default 2 s interval with the ${COUNTS[COUNTS.length - 1]} containers running, % of one core over the idle window of the same round: ` +
        `${WINDOW_S} s per mode in ${Math.max(1, Math.round(WINDOW_S / 20))} rounds (idle, cgroup path, API path back to back; the budgeted API path in windows three times as long, each after its own idle window); median over rounds, range in brackets ` +
        `(daemon = dockerd + containerd + containerd-shim from /proc/<pid>/stat, self = this process, \`process.cpuUsage\`):`,
      '',
      '| mode | daemon over idle | self over idle | total overhead (median) | work done |',
      '|---|---|---|---|---|',
      ...overhead,
      '',
      `The budgeted API monitor said: "${budgetSaid}". Disk on the cgroup path: ${diskSeen ? `${diskSeen.source}, ${diskSeen.percent}%` : 'none'}, one statfs a sample. ` +
        `One \`/system/df\` at this load: ${ms(dfCost.wallMs)} ms, ${ms(dfCost.daemonMs)} ms of daemon CPU; at once per 5 min ${((dfCost.daemonMs / 300_000) * 100).toFixed(3)}% of a core. ` +
        `Daemon CPU per one-shot stats call (API path without a budget, ${apiCalls} containers a sample): ${perCallMs.toFixed(1)} ms.`,
      '',
      'Targets: a sample at 100 containers in at most 1/20 of `docker stats --no-stream` (issue 2); under 3% of one core at 2 s on the cgroup path with consumers, events and disk, and the daemon under 5% on the API path with the budget (issue 15).',
    ].join('\n'),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
