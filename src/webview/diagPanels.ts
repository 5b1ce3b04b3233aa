// The diagnosis panels: top consumers (sortable), owner totals, Docker's disk breakdown and the
// incident timeline. Names come from containers: text only (textContent), never markup.
import { formatBytes } from '../shared/format.js';
import type { ContainerUsage, Sample } from '../shared/monitor.js';
import { ownerLabel } from '../shared/owner.js';
import type { IncidentView } from '../shared/protocol.js';
import { clockTime, h, table } from './dom.js';
import type { ConsumerSort } from './uiState.js';

const COMPARE: Record<ConsumerSort, (a: ContainerUsage, b: ContainerUsage) => number> = {
  memory: (a, b) => b.memoryBytes - a.memoryBytes,
  cpu: (a, b) => b.cpuPercent - a.cpuPercent,
  name: (a, b) => a.name.localeCompare(b.name),
  owner: (a, b) => ownerLabel(a.owner).localeCompare(ownerLabel(b.owner)),
};

/** Sorted by `by`, ties by name: the same list always reads the same way. */
export function sortConsumers(all: readonly ContainerUsage[], by: ConsumerSort): ContainerUsage[] {
  return [...all].sort((a, b) => COMPARE[by](a, b) || a.name.localeCompare(b.name));
}

/**
 * The heaviest containers of the newest sample, with a sort button in each sortable header
 * (the header says which order is on, for screen readers too).
 */
export function consumersPanel(
  latest: Sample | undefined,
  by: ConsumerSort,
  onSort: (by: ConsumerSort) => void,
): HTMLElement {
  if (!latest?.consumers) return h('p', { class: 'muted' }, 'No per-container figures in the newest sample.');
  if (latest.consumers.length === 0) return h('p', { class: 'muted' }, 'No running containers.');
  const head = (label: string, key: ConsumerSort): HTMLElement => {
    const b = h('button', { type: 'button', class: 'sort', 'data-sort': key }, label);
    b.addEventListener('click', () => onSort(key));
    return h(
      'th',
      {
        scope: 'col',
        'aria-sort': key === by ? (key === 'name' || key === 'owner' ? 'ascending' : 'descending') : 'none',
      },
      b,
    );
  };
  const rows = sortConsumers(latest.consumers, by).map((c) =>
    h(
      'tr',
      {},
      h('td', {}, c.name),
      h('td', {}, ownerLabel(c.owner)),
      h('td', {}, formatBytes(c.memoryBytes)),
      h('td', {}, `${c.cpuPercent.toFixed(1)}%`),
    ),
  );
  return h(
    'table',
    { class: 'consumers' },
    h('caption', {}, `Top consumers at ${clockTime(latest.sampledAt)}, by ${by}`),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        head('Container', 'name'),
        head('Owner', 'owner'),
        head('Memory', 'memory'),
        head('CPU', 'cpu'),
      ),
    ),
    h('tbody', {}, ...rows),
  );
}

export function ownersPanel(latest: Sample | undefined): HTMLElement | undefined {
  if (!latest?.owners?.length) return undefined;
  return table(
    'Totals per owner',
    ['Owner', 'Containers', 'Memory', 'CPU'],
    latest.owners.map((o) => [
      ownerLabel(o.owner),
      String(o.containers),
      formatBytes(o.memoryBytes),
      `${o.cpuPercent.toFixed(1)}%`,
    ]),
    'owners',
  );
}

/** Where Docker's disk goes, from the newest sample that carries a disk figure. */
export function diskPanel(samples: readonly Sample[]): HTMLElement | undefined {
  let disk: Sample['disk'];
  for (let i = samples.length - 1; i >= 0 && !disk; i--) disk = samples[i]!.disk;
  if (!disk) return undefined;
  const where = disk.dataRoot ? ` (${disk.dataRoot})` : '';
  const how = disk.source === 'statfs' ? 'file system of the data root' : "the daemon's disk usage";
  const summary = h(
    'p',
    {},
    `Disk: ${disk.percent}% used, ${formatBytes(disk.used)} of ${formatBytes(disk.capacity)}${where}, level ${disk.level}; ${how}, measured ${clockTime(disk.measuredAt)}.`,
  );
  const logs = (disk.unrotatedLogs ?? []).map((l) =>
    h(
      'li',
      {},
      `${l.service ? `service ${l.service} (${l.name})` : l.name}, ${ownerLabel(l.owner)}: log is ${formatBytes(l.bytes)} with no rotation (set logging max-size).`,
    ),
  );
  const unrotated = logs.length > 0 ? h('ul', { class: 'unrotated' }, ...logs) : undefined;
  const b = disk.breakdown;
  if (!b) return h('div', {}, summary, unrotated);
  const parts: [string, number | undefined][] = [
    ['Images', b.images],
    ['Build cache', b.buildCache],
    ['Volumes', b.volumes],
    ['Containers (writable layers)', b.containers],
    ['Container logs', b.logs],
  ];
  const rows = parts
    .filter((p): p is [string, number] => p[1] !== undefined)
    .map(([what, bytes]) => [
      what,
      formatBytes(bytes),
      disk.used > 0 ? `${((bytes / disk.used) * 100).toFixed(1)}%` : '',
    ]);
  return h(
    'div',
    {},
    summary,
    table('Disk breakdown', ['What', 'Size', 'Share of used'], rows, 'disk-breakdown'),
  );
}

/** The newest incidents first (at most `limit`): the list the chart markers stand for. */
export function incidentsPanel(incidents: readonly IncidentView[], limit = 20): HTMLElement {
  if (incidents.length === 0) return h('p', { class: 'muted' }, 'No incidents recorded.');
  const rows = incidents
    .slice(-limit)
    .reverse()
    .map((i) => [new Date(i.at).toLocaleString(), i.title, i.container ?? '', i.owner ?? '']);
  return table(
    `Incidents (${incidents.length} recorded, newest first; marked on the charts)`,
    ['Time', 'What', 'Container', 'Owner'],
    rows,
    'incidents',
  );
}
