// Names and messages from outside reach the terminal without control characters: the real
// vectors are network names, label values (compose project and service, run ids) on the real
// engine, a daemon's error text, and compose files (service and file names).
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { planApply } from '../../src/core/compose';
import { Labels } from '../../src/core/labels';
import { FakeDaemon } from '../helpers/fakeDaemon';
import { DockerFixture, TEST_LABEL, testClient } from '../helpers/docker';
import { cli as runCli } from '../core/lock/helpers';

/** The CLI without colours: any escape sequence in its output came from outside. */
const cli = (args: string[]) => runCli(args, { NO_COLOR: '1' });

/** A title change (OSC 0), a hyperlink (OSC 8), screen erase, colour (CSI) and a bare newline. */
const TITLE = '\x1b]0;pwned\x07';
const LINK = '\x1b]8;;https://evil.example\x1b\\';
const ERASE = '\x1b[2J\x1b[H';
const RED = '\x1b[31m';
// eslint-disable-next-line no-control-regex -- the test looks for control characters
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;

/** No control character but the newlines that end lines. */
function assertClean(text: string, what: string): void {
  const bad = text.split('\n').find((l) => CONTROL.test(l));
  assert.equal(bad, undefined, `${what} carries a control character: ${JSON.stringify(bad)}`);
}

describe('hostile names and messages reach the terminal stripped (CLI)', function () {
  this.timeout(120_000);
  const f = new DockerFixture(testClient(60_000));
  const dir = mkdtempSync(join(tmpdir(), 'dstab-hostile-'));
  const scopeArgs = [
    '--label',
    `${TEST_LABEL}=${f.id}`,
    '--older-than',
    '0s',
    '--lock-dir',
    join(dir, 'locks'),
  ];
  const runId = `run${ERASE}-${f.id}`;
  const project = `evil${TITLE}${RED}-test`;

  before(async () => {
    await f.network(`dstab-${f.id}-${LINK}net${ERASE}`, { [Labels.runId]: runId });
    // A working folder whose name is not the project's: the name was chosen (-p, name:), as a test project's is.
    await f.container({
      start: false,
      labels: {
        [Labels.composeProject]: project,
        'com.docker.compose.service': `svc${TITLE}`,
        'com.docker.compose.project.working_dir': '/srv/shop',
      },
    });
    await new Promise((r) => setTimeout(r, 1100));
  });
  after(async () => {
    await f.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the daemon accepts these names and labels (the vectors are real)', async () => {
    const nets = await f.client.listNetworks({ label: [`${TEST_LABEL}=${f.id}`] });
    assert.ok(
      nets.some((n) => n.Name.includes('\x1b]8;;')),
      nets.map((n) => n.Name).join(', '),
    );
    const containers = await f.client.listContainers({ label: [`${TEST_LABEL}=${f.id}`] });
    assert.equal(containers[0]?.Labels[Labels.composeProject], project);
  });

  it('cleanup --dry-run and cleanup list the hostile network and the project container with their names stripped', async () => {
    const dry = await cli(['cleanup', '--dry-run', ...scopeArgs]);
    assert.equal(dry.code, 0, dry.stderr);
    assertClean(dry.stdout + dry.stderr, 'the dry run');
    assert.match(dry.stdout, new RegExp(`network\\s+dstab-${f.id}-net\\s+.*run run-${f.id}`), dry.stdout);
    assert.match(dry.stdout, /compose test project evil-test/, dry.stdout);
    const real = await cli(['cleanup', ...scopeArgs]);
    assert.equal(real.code, 0, real.stderr);
    assertClean(real.stdout + real.stderr, 'the cleanup');
    assert.deepEqual(
      await f.client.listNetworks({ label: [`${TEST_LABEL}=${f.id}`] }),
      [],
      'removed all the same',
    );
  });

  it("a daemon's error text is printed without its escape sequences", async () => {
    const daemon = new FakeDaemon('HOSTILE');
    daemon.failures.set('/containers/json', `no such thing${TITLE}${ERASE}\nforged line`);
    const addr = await daemon.listen();
    try {
      const r = await cli([
        'cleanup',
        '--dry-run',
        '--host',
        `tcp://${addr}`,
        '--lock-dir',
        join(dir, 'locks'),
      ]);
      assert.equal(r.code, 1, r.stderr);
      assertClean(r.stderr, 'the error');
      assert.match(r.stderr, /no such thingforged line/);
      assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
    } finally {
      await daemon.close();
    }
  });

  it('compose check prints hostile service and file names stripped', async () => {
    const file = join(dir, `docker-compose${ERASE}.test.yml`);
    writeFileSync(
      file,
      `services:\n  "web\\e]0;pwned\\a\\e[2J":\n    image: postgres:16\n    tmpfs: [/var/lib/postgresql/data]\n`,
    );
    const r = await cli(['compose', 'check', file]);
    assertClean(r.stdout + r.stderr, 'compose check');
    assert.match(r.stdout, /docker-compose\.test\.yml:\d+:\d+/);
    assert.match(r.stdout, /web/);
  });

  it('compose apply: a newline in the file name does not become YAML in the generated header', async () => {
    const file = join(dir, 'x\nservices: {injected: {image: evil}}\n#-test.yml');
    writeFileSync(file, 'services:\n  web:\n    image: busybox\n');
    const plan = await planApply(file);
    const services = (parse(plan.after) as { services: Record<string, unknown> }).services;
    assert.deepEqual(Object.keys(services), ['web']);
    assert.ok(!plan.after.split('\n').some((l) => l.startsWith('services: {injected')), plan.after);
    assert.ok(readFileSync(file, 'utf8').includes('web'));
  });
});
