// Apart from edits.ts so that the library's declarations of a fix need no YAML parser's types
// (docs/packaging.md: the npm package installs no yaml).

/** A replacement of `length` characters at `offset` of the original text. */
export interface TextEdit {
  offset: number;
  length: number;
  newText: string;
}

/**
 * Applies edits made against the same original text. Throws on overlapping edits: they come from
 * a bug, and a silently mangled compose file is worse than an error.
 */
export function applyFix(text: string, fix: { edits: TextEdit[] }): string {
  const edits = [...fix.edits].sort((a, b) => a.offset - b.offset);
  let out = '';
  let pos = 0;
  for (const e of edits) {
    if (e.offset < pos || e.offset + e.length > text.length)
      throw new Error(`overlapping or out-of-range edit at offset ${e.offset}`);
    out += text.slice(pos, e.offset) + e.newText;
    pos = e.offset + e.length;
  }
  return out + text.slice(pos);
}
