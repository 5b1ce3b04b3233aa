import { RESOURCE_KINDS, type Level, type ResourceKind } from '../core/levels';
import { drivingFigure } from '../core/monitor/formulas';
import { DEFAULT_FORECAST, upcomingCrossings, type Forecast } from '../core/monitor/forecast';
import { ownerLabel } from '../core/monitor/owners';
import type { ResourceFigure, Sample } from '../core/monitor/types';
import { formatBytes, formatDuration } from '../core/util/duration';
import { stripControlChars } from '../core/util/terminalText';
import { paint, type TextStyle } from './style';

const LEVEL_STYLE: Record<Level, TextStyle> = {
  SAFE: 'green',
  WARNING: 'yellow',
  CRITICAL: 'red',
  EMERGENCY: ['bold', 'white', 'bgRed'],
};

function paintLevel(text: string, level: Level, color: boolean): string {
  return paint(LEVEL_STYLE[level], text, color);
}

export function formatFigure(kind: ResourceKind, f: ResourceFigure): string {
  if (kind === 'memory') return `${formatBytes(f.used)} / ${formatBytes(f.capacity)}`;
  if (kind === 'cpu') return `${f.used.toFixed(1)}% / ${f.capacity}% (of a core)`;
  return `${f.used} / ${f.capacity}`;
}

/** A bar of `width` cells filled to `percent`. */
export function bar(percent: number, width: number): string {
  const filled = Math.max(0, Math.min(width, Math.round((percent / 100) * width)));
  return '█'.repeat(filled) + '░'.repeat(width - filled);
}

const SPARKS = '▁▂▃▄▅▆▇█';
/** A sparkline of percentages (0-100) in at most `width` characters, newest on the right. */
export function sparkline(values: number[], width: number): string {
  return values
    .slice(-width)
    .map(
      (v) =>
        SPARKS[
          Math.max(
            0,
            Math.min(SPARKS.length - 1, Math.floor((Math.min(100, Math.max(0, v)) / 100) * SPARKS.length)),
          )
        ] ?? ' ',
    )
    .join('');
}

export function headline(s: Sample, color: boolean): string {
  const { kind, figure } = drivingFigure(s);
  // Samples may be read back from a history file: its endpoint text is printed stripped.
  return `Docker at ${stripControlChars(s.endpoint)}: ${paintLevel(s.level, s.level, color)} (${kind} ${figure.percent}%)`;
}

/** One resource's line: name, figures, percent, level, and with `bars`/`history` a bar and a sparkline. */
function figureLine(
  name: string,
  figures: string,
  f: ResourceFigure,
  opts: { color: boolean; bars?: boolean; history?: Sample[] },
  percentOf: (h: Sample) => number,
): string {
  const parts = [
    `  ${name.padEnd(10)}`,
    figures.padEnd(30),
    `${f.percent.toFixed(1).padStart(6)}%`,
    paintLevel(f.level.padEnd(9), f.level, opts.color),
  ];
  if (opts.bars) parts.push(bar(f.percent, 20));
  if (opts.history && opts.history.length > 1) parts.push(sparkline(opts.history.map(percentOf), 30));
  return parts.join(' ');
}

/** Disk's line (its figure may be older than the sample), its breakdown, unrotated logs, and the stats budget. */
function diskAndBudgetLines(
  s: Sample,
  opts: { color: boolean; bars?: boolean; history?: Sample[] },
): string[] {
  const lines: string[] = [];
  const d = s.disk;
  if (d) {
    lines.push(
      figureLine(
        'disk',
        `${formatBytes(d.used)} / ${d.capacity ? formatBytes(d.capacity) : '?'}`,
        d,
        opts,
        (h) => h.disk?.percent ?? 0,
      ),
    );
    const b = d.breakdown;
    const age = Date.parse(s.sampledAt) - Date.parse(d.measuredAt);
    const when = age > 1000 ? `, measured ${formatDuration(age)} before` : '';
    lines.push(
      `    ${d.source === 'statfs' ? `statfs of ${stripControlChars(d.dataRoot ?? '?')}` : "the daemon's /system/df"}${when}` +
        (b
          ? `; images ${formatBytes(b.images)}, build cache ${formatBytes(b.buildCache)}, volumes ${formatBytes(b.volumes)}, containers ${formatBytes(b.containers)}${b.logs !== undefined ? `, logs ${formatBytes(b.logs)}` : ''}`
          : ''),
    );
    for (const l of d.unrotatedLogs ?? [])
      lines.push(
        `    log of ${stripControlChars(l.service ? `service ${l.service} (${ownerLabel(l.owner)})` : l.name)} is ${formatBytes(l.bytes)} with no rotation: see the compose rule log-rotation`,
      );
  }
  if (s.budget) lines.push(`  ${stripControlChars(s.budget.reason)}`);
  return lines;
}

/** The table `status` prints: one line per resource. */
export function renderSample(
  s: Sample,
  opts: { color: boolean; bars?: boolean; history?: Sample[] } = { color: false },
): string {
  const lines = [headline(s, opts.color)];
  for (const k of RESOURCE_KINDS) {
    const f = s.resources[k];
    lines.push(figureLine(k, formatFigure(k, f), f, opts, (h) => h.resources[k].percent));
  }
  lines.push(...diskAndBudgetLines(s, opts));
  lines.push(
    `  ${s.running} running; sampled ${stripControlChars(s.sampledAt)} in ${s.durationMs} ms (cgroup ${s.source.cgroup}, api ${s.source.api}${s.source.failed ? `, failed ${s.source.failed}` : ''})`,
  );
  return lines.join('\n');
}

/**
 * The heaviest containers and every owner's totals. Names and label values come from the
 * daemon (anyone who can create a container chooses them): printed stripped.
 */
export function renderConsumers(s: Sample, top: number): string {
  if (!s.consumers || !s.owners) return '  (no per-container figures in this sample)';
  const t = (text: string, width: number): string => {
    const clean = stripControlChars(text);
    return (clean.length > width ? clean.slice(0, width - 1) + '…' : clean).padEnd(width);
  };
  const figures = (memoryBytes: number, cpuPercent: number): string =>
    `${formatBytes(memoryBytes).padStart(10)} ${`${cpuPercent.toFixed(1)}%`.padStart(8)}`;
  const lines: string[] = [];
  const shown = s.consumers.slice(0, top);
  if (shown.length === 0) lines.push('  no running containers');
  else {
    lines.push(
      `  top ${shown.length} by memory:`,
      `    ${'CONTAINER'.padEnd(28)} ${'OWNER'.padEnd(30)} ${'MEMORY'.padStart(10)} ${'CPU'.padStart(8)}`,
    );
    for (const c of shown)
      lines.push(
        `    ${t(c.name, 28)} ${t(ownerLabel(c.owner), 30)} ${figures(c.memoryBytes, c.cpuPercent)}`,
      );
  }
  if (s.owners.length > 0) {
    lines.push('  by owner:');
    for (const g of s.owners) {
      lines.push(
        `    ${t(ownerLabel(g.owner), 44)} ${`${g.containers} running`.padStart(13)} ${figures(g.memoryBytes, g.cpuPercent)}`,
      );
    }
  }
  return lines.join('\n');
}

/** The trend: `memory WARNING in about 4m 00s at this rate`, or honestly steady / too little data. */
export function renderForecast(all: readonly Forecast[]): string {
  const c = upcomingCrossings(all);
  if (c === 'too-little-data')
    return '  trend: too little data yet (run `docker-stability watch` for a few minutes)';
  if (c === 'none')
    return `  trend: no level change within ${formatDuration(DEFAULT_FORECAST.horizonMs)} at this rate`;
  return c
    .map(
      (x) =>
        `  trend: ${x.kind} ${x.level} in about ${formatDuration(x.inMs)} at this rate (+${x.perMinute} points a minute)`,
    )
    .join('\n');
}

/** One line per sample, for non-TTY output (logs, CI). */
export function sampleLine(s: Sample): string {
  return [
    stripControlChars(s.sampledAt),
    s.level,
    ...RESOURCE_KINDS.map((k) => `${k}=${s.resources[k].percent}%`),
    ...(s.disk ? [`disk=${s.disk.percent}%`] : []),
  ].join(' ');
}
