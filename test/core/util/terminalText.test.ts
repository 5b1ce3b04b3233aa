import { strict as assert } from 'node:assert';
import { stderrLogger } from '../../../src/core/log';
import { stripControlChars } from '../../../src/core/util/terminalText';

describe('stripControlChars', () => {
  it('keeps printable text, Unicode included, unchanged', () => {
    for (const s of ['web-test_db_1', 'ünïcødé ✓ 名前', 'a b/c:d@e', ''])
      assert.equal(stripControlChars(s), s);
  });

  it('removes colour, cursor and erase sequences (CSI) whole, in 7-bit and 8-bit form', () => {
    assert.equal(stripControlChars('\x1b[31mred\x1b[0m'), 'red');
    assert.equal(stripControlChars('x\x1b[2J\x1b[1;1H\x1b[?25l'), 'x');
    assert.equal(stripControlChars('a\x9b31mb'), 'ab');
  });

  it('removes string commands (window title, hyperlinks, DCS) up to their terminator', () => {
    assert.equal(stripControlChars('\x1b]0;pwned\x07name'), 'name');
    assert.equal(stripControlChars('\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\'), 'click');
    assert.equal(stripControlChars('\x1bP+q544e\x1b\\ok'), 'ok');
    assert.equal(stripControlChars('\x9d0;t\x9cok'), 'ok');
  });

  it('drops the introducer of an unterminated string command and keeps the rest as plain text', () => {
    assert.equal(stripControlChars('a\x1b]0;title'), 'a0;title');
  });

  it('removes two-byte escapes (reset, charset switches) and lone ESC', () => {
    assert.equal(stripControlChars('a\x1bcb\x1b(0c\x1b'), 'abc');
  });

  it('drops every other C0, DEL and C1 character, newlines and carriage returns included', () => {
    assert.equal(stripControlChars('line1\nline2\r\tx\x00\x07\x08\x7f\x85\x9fy'), 'line1line2xy');
  });

  it('is applied by the CLI logger: a logged daemon message is one line without escape sequences', () => {
    const written: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => written.push(chunk) > 0) as typeof process.stderr.write;
    try {
      stderrLogger().warn('conflict: \x1b]0;pwned\x07name\nforged');
    } finally {
      process.stderr.write = write;
    }
    assert.deepEqual(written, ['[warn] conflict: nameforged\n']);
  });
});
