import { existsSync, readFileSync } from 'node:fs';

/** How often the critical-section fixture writes "alive": a killed section ended within one tick after its last line. */
export const TICK_MS = 20;

export interface Section {
  label: string;
  start: number;
  /** Its end line, or its last line plus one tick when it was killed. */
  end: number;
  ended: boolean;
}

/** The critical sections the fixture wrote to `log`, in start order. */
export function sections(log: string): Section[] {
  if (!existsSync(log)) return [];
  const byLabel = new Map<string, Section>();
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    const [label, what, t] = line.split(' ');
    if (!label || !what || !t) continue;
    const time = Number(t);
    const s = byLabel.get(label) ?? { label, start: time, end: time, ended: false };
    if (what === 'start') s.start = time;
    if (what === 'end' || what === 'term') s.ended = true;
    s.end = Math.max(s.end, time);
    byLabel.set(label, s);
  }
  return [...byLabel.values()]
    .map((s) => (s.ended ? s : { ...s, end: s.end + TICK_MS }))
    .sort((a, b) => a.start - b.start);
}

/** Every pair of sections that ran at the same time, as readable strings (empty: none). */
export function overlaps(list: Section[]): string[] {
  const found: string[] = [];
  for (let i = 0; i < list.length; i++) {
    for (let j = i + 1; j < list.length; j++) {
      const a = list[i] as Section;
      const b = list[j] as Section;
      if (b.start < a.end)
        found.push(
          `${a.label} [${a.start.toFixed(0)}, ${a.end.toFixed(0)}] overlaps ${b.label} from ${b.start.toFixed(0)} (${(a.end - b.start).toFixed(0)} ms)`,
        );
    }
  }
  return found;
}

/** Overlaps that involve an exclusive section (label starting with X); shared ones (S...) may overlap each other. */
export function exclusiveOverlaps(list: Section[]): string[] {
  return overlaps(list).filter((o) => /^X| overlaps X/.test(o));
}

/** Whether any two shared sections ran at the same time (the point of shared mode). */
export function sharedRanTogether(list: Section[]): boolean {
  return overlaps(list.filter((s) => s.label.startsWith('S'))).length > 0;
}
