// The webview's marks on the way to its first frame (OPEN_MARKS in the protocol), in Unix ms.
// main.ts imports this first, so `script` is the bundle starting to run, before chart.js.
import type { OpenMark, OpenMarks } from '../shared/protocol.js';

export const now = (): number => performance.timeOrigin + performance.now();

const marks: Partial<OpenMarks> = { page: performance.timeOrigin, script: now() };
// When main.js had arrived (resource timing); without an entry, no time is told apart from `script`.
const src = (document.currentScript as HTMLScriptElement | null)?.src;
const entry = performance.getEntriesByType('resource').find((e) => e.name === src) as
  PerformanceResourceTiming | undefined;
marks.bundle = entry && entry.responseEnd > 0 ? performance.timeOrigin + entry.responseEnd : marks.script;

let sent = false;

export function mark(name: OpenMark): void {
  marks[name] ??= now();
}

/**
 * Once the frame showing the first snapshot is drawn (the task after the next animation frame),
 * hands every mark to `send`; once per page load.
 */
export function afterFirstFrame(send: (m: OpenMarks) => void): void {
  if (sent) return;
  sent = true;
  requestAnimationFrame(() =>
    setTimeout(() => {
      mark('frame');
      send(marks as OpenMarks);
    }, 0),
  );
}
