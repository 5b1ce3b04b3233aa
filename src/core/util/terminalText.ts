/**
 * Terminal control sequences, whole, so their parameters do not survive as stray text
 * (ECMA-48): string commands (OSC, DCS, SOS, PM, APC, in 7-bit `ESC x` or 8-bit C1 form) up to
 * their terminator (BEL, `ESC \` or ST), CSI with its parameter and intermediate bytes, and the
 * other escape sequences (intermediates, then one final byte).
 */
const SEQUENCE =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  /(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)|(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]|\x1b[ -/]*[0-~]/g;

/** C0 (tab and newline included: one name must stay one line), DEL and C1. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\x00-\x1f\x7f-\x9f]/g;

/**
 * Makes a string from outside (a container, service, volume or file name, a lock holder, a
 * daemon's message) safe to print to a terminal or show in an editor message: escape sequences
 * are removed whole, every other control character is dropped. An unterminated string command
 * loses only its introducer: the rest is plain text a terminal prints as it is.
 */
export function stripControlChars(text: string): string {
  return text.replace(SEQUENCE, '').replace(CONTROL, '');
}
