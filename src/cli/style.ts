import * as util from 'node:util';

/** A text style of `util.inspect.colors` (`red`, `bold`, `bgRed`, ...), or several applied in order. */
export type TextStyle = Parameters<typeof util.styleText>[0];

// styleText exists from Node 20.12 and checks the stream itself (its validateStream option) from
// 20.18 / 22.8. Engines allow any Node 20: before 20.18 tty's hasColors() decides, reading the
// same variables; before 20.12 the output is plain.
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
const styleValidates = major > 22 || (major === 22 && minor >= 8) || (major === 20 && minor >= 18);

/**
 * Whether text for `stream` gets colours, as node:util's styleText decides: a terminal with
 * colours, none with NO_COLOR or NODE_DISABLE_COLORS set or TERM=dumb, and FORCE_COLOR forcing
 * them even through a pipe (https://no-color.org, https://force-color.org).
 */
export function useColor(stream: NodeJS.WriteStream = process.stdout): boolean {
  if (typeof util.styleText !== 'function') return false;
  if (styleValidates) return util.styleText('red', 'x', { stream }) !== 'x';
  return !!stream.isTTY && stream.hasColors();
}

/** `text` in `style` when `color` is on (see useColor), as it is otherwise. */
export function paint(style: TextStyle, text: string, color: boolean): string {
  return color ? util.styleText(style, text, { validateStream: false }) : text;
}
