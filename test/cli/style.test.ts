import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { paint } from '../../src/cli/style';

const STYLE = join(__dirname, '../../src/cli/style.js');
// Prints what useColor() decides for stdout, then a painted word.
const PROBE = `const s = require(${JSON.stringify(STYLE)}); const c = s.useColor(); process.stdout.write(JSON.stringify([c, s.paint('red', 'x', c)]));`;
// Every variable Node's colour depth reads besides TERM (CI runners set CI, which alone turns
// colours off), so that the machine running the tests does not decide the answers.
const COLOR_VARS = [
  'NO_COLOR',
  'FORCE_COLOR',
  'NODE_DISABLE_COLORS',
  'CI',
  'CI_NAME',
  'GITHUB_ACTIONS',
  'GITLAB_CI',
  'TRAVIS',
  'CIRCLECI',
  'APPVEYOR',
  'BUILDKITE',
  'DRONE',
  'TEAMCITY_VERSION',
  'TMUX',
  'TERM_PROGRAM',
  'TERM_PROGRAM_VERSION',
  'COLORTERM',
];
const BASE_ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => !COLOR_VARS.includes(k)));

/** useColor() and paint() in a fresh node whose stdout is a pipe, or a pseudo-terminal (util-linux `script`). */
function probe(env: Record<string, string>, tty: boolean): [boolean, string] {
  const opts = {
    env: { ...BASE_ENV, TERM: 'xterm-256color', ...env },
    encoding: 'utf8' as const,
    timeout: 10_000,
  };
  const r = tty
    ? spawnSync(
        'script',
        ['-qec', `${JSON.stringify(process.execPath)} -e ${JSON.stringify(PROBE)}`, '/dev/null'],
        opts,
      )
    : spawnSync(process.execPath, ['-e', PROBE], opts);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().replace(/^[^[]*/, '')) as [boolean, string];
}

describe('CLI colours (node:util styleText)', () => {
  it('paint styles through styleText when colour is on and leaves the text alone when off', () => {
    assert.equal(paint('red', 'x', false), 'x');
    assert.equal(paint('red', 'x', true), '\x1b[31mx\x1b[39m');
    assert.equal(
      paint(['bold', 'white', 'bgRed'], 'E', true),
      '\x1b[1m\x1b[37m\x1b[41mE\x1b[49m\x1b[39m\x1b[22m',
    );
  });

  it('colours a terminal; not a pipe, NO_COLOR, NODE_DISABLE_COLORS or TERM=dumb; FORCE_COLOR forces them through a pipe', () => {
    assert.deepEqual(probe({}, true), [true, '\x1b[31mx\x1b[39m']);
    assert.deepEqual(probe({ NO_COLOR: '1' }, true), [false, 'x']);
    assert.deepEqual(probe({ NODE_DISABLE_COLORS: '1' }, true), [false, 'x']);
    assert.deepEqual(probe({ TERM: 'dumb' }, true), [false, 'x']);
    assert.deepEqual(probe({}, false), [false, 'x']);
    assert.deepEqual(probe({ FORCE_COLOR: '1' }, false), [true, '\x1b[31mx\x1b[39m']);
    assert.deepEqual(probe({ FORCE_COLOR: '0' }, true), [false, 'x']);
    // A CI runner's log is a terminal to us, but Node colours it only for the CI services it knows.
    assert.deepEqual(probe({ CI: 'true' }, true), [false, 'x']);
    assert.deepEqual(probe({ CI: 'true', GITHUB_ACTIONS: 'true' }, true), [true, '\x1b[31mx\x1b[39m']);
  });
});
