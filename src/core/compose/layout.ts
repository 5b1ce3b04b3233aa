// The top-level layout of a compose file from a scan of its lines, before any parse: where each
// top-level section starts and, under `services:`, where each service starts. It recognises only
// the layout compose files have (block mappings, keys at column 0 and services one indentation
// in); anything else (document markers, directives, a flow or tagged `services`, a line the scan
// cannot place) gives undefined, and the file is then parsed as one document. A line the scan
// places wrongly (inside a multi-line quoted or flow value) leaves a part that does not parse on
// its own, which makes the check in parts give up too.

export interface Section {
  start: number;
  /** Where the next section starts, or the end of the text. */
  end: number;
  /** On the `services:` section: where each service starts (its header runs up to the first). */
  services?: number[];
}

/** `services:` alone on its line (a comment allowed): its value is the block mapping below. */
const SERVICES_HEADER = /^services[ \t]*:[ \t]*(?:#.*)?$/;
/** What no plain or quoted key of a block mapping starts with (indicators, flow, tags, anchors, aliases). */
const NOT_A_KEY = new Set([...'-?:,[]{}#&*!|>%@`\t'].map((c) => c.charCodeAt(0)));
const SPACE = 32;
const HASH = 35;
const CR = 13;

/** The sections of a compose text with one `services` mapping split by service, or undefined (see above). */
export function composeLayout(text: string): Section[] | undefined {
  if (text.charCodeAt(0) === 0xfeff) return undefined;
  const sections: Section[] = [];
  let current: Section | undefined;
  let servicesIndent = -1;
  let sawServices = false;
  for (let pos = 0; pos < text.length;) {
    const nl = text.indexOf('\n', pos);
    const lineEnd = nl < 0 ? text.length : nl;
    const next = nl < 0 ? text.length : nl + 1;
    let indent = pos;
    while (indent < lineEnd && text.charCodeAt(indent) === SPACE) indent++;
    const first = indent < lineEnd ? text.charCodeAt(indent) : -1;
    const line = pos;
    pos = next;
    if (first === -1 || first === HASH || (first === CR && indent + 1 === lineEnd)) continue;
    if (first === 9 && text.slice(indent, lineEnd).trim() === '') continue;
    const depth = indent - line;
    if (depth === 0) {
      const head = text.slice(line, lineEnd).replace(/\r$/, '');
      if (NOT_A_KEY.has(first) || head.startsWith('...')) return undefined;
      if (current) current.end = line;
      current = { start: line, end: text.length };
      sections.push(current);
      servicesIndent = -1;
      if (SERVICES_HEADER.test(head)) {
        if (sawServices) return undefined;
        sawServices = true;
        current.services = [];
      }
      continue;
    }
    // Indented content before any key: the top level is not a block mapping at column 0.
    if (!current) return undefined;
    if (!current.services) continue;
    if (servicesIndent < 0) servicesIndent = depth;
    if (depth < servicesIndent || (depth === servicesIndent && NOT_A_KEY.has(first))) return undefined;
    if (depth === servicesIndent) current.services.push(line);
  }
  const services = sections.find((s) => s.services);
  return services?.services?.length ? sections : undefined;
}
