// A tiny element builder: text always goes through textContent, so nothing from a sample or a
// lock holder can become markup.
type Attrs = Record<string, string | number | boolean | undefined>;
type Child = Node | string | number | undefined | null | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    el.append(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
  return el;
}

export function replaceChildren(el: Element, ...children: Child[]): void {
  el.replaceChildren(
    ...children
      .filter((c): c is Node | string | number => c !== undefined && c !== null && c !== false)
      .map((c) => (typeof c === 'number' ? String(c) : c)),
  );
}

/** A labelled table: caption for screen readers, header row, body rows. */
export function table(caption: string, head: string[], rows: Child[][], className = ''): HTMLTableElement {
  return h(
    'table',
    { class: className },
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, ...head.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, ...rows.map((r) => h('tr', {}, ...r.map((c) => h('td', {}, c))))),
  );
}

// One formatter, made once: Date.toLocaleTimeString builds a new one on every call, which a
// chart's tick labels do several times per redraw.
const CLOCK = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit', second: '2-digit' });

/**
 * Formatted seconds, kept: formatting is tens of microseconds, and a live update writes each
 * chart's few time labels again, mostly the same seconds. Cleared when it grows (a range change).
 */
const clockCache = new Map<number, string>();
const CLOCK_CACHE_SIZE = 512;

/** A time of day in the user's locale (as toLocaleTimeString writes it), to the second. */
export function clockTime(t: number | string): string {
  const ms = typeof t === 'string' ? Date.parse(t) : t;
  const second = Math.floor(ms / 1000);
  let text = clockCache.get(second);
  if (text === undefined) {
    if (clockCache.size >= CLOCK_CACHE_SIZE) clockCache.clear();
    text = CLOCK.format(second * 1000);
    clockCache.set(second, text);
  }
  return text;
}
