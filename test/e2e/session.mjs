// One browser end-to-end session: the PACKAGED .vsix installed into a scratch code-server with
// `--install-extension`, a real Docker engine behind it, Debian's Chromium driving the
// workbench as a user would. Shared by the steps in extension.e2e.test.mjs.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  codeServerCli,
  ensureTools,
  extensionId,
  extensionLogs,
  killGroup,
  launchBrowser,
  loadPlaywright,
  quietSettings,
  repoRoot,
  scratchLayout,
  startCodeServer,
  tail,
  unstyleConsole,
} from '../../scripts/lib/codeServer.mjs';

export const imagesDir = process.env.DOCKER_STABILITY_E2E_IMAGES || join(repoRoot, 'docs/images');
const TEST_IMAGE = 'docker-stability-test/busybox:1';

export class E2eSession {
  constructor(vsix) {
    this.vsix = vsix;
    this.tag = `e2e-${process.pid}-${Date.now().toString(36)}`;
    this.scratch = mkdtempSync(join(tmpdir(), 'dstab-e2e-'));
    this.lockDir = join(this.scratch, 'locks');
    mkdirSync(this.lockDir);
    this.settings = {
      ...quietSettings,
      'workbench.colorTheme': 'Default Light Modern',
      'window.commandCenter': false,
      'dockerStability.sampleIntervalSeconds': 1,
      'dockerStability.lock.folder': this.lockDir,
      'dockerStability.lock.staleSeconds': 2,
      'dockerStability.cleanup.olderThanMinutes': 0,
    };
    this.dirs = scratchLayout(this.scratch, this.settings);
    this.console = [];
    this.containers = [];
  }

  /** Installs the .vsix, starts code-server and the browser, and opens the workbench. */
  async start() {
    this.tools = ensureTools();
    codeServerCli(this.tools, this.dirs, ['--install-extension', this.vsix, '--force']);
    this.installedDir = readdirSync(this.dirs.extensions).find((d) => d.startsWith(`${extensionId}-`));
    if (!this.installedDir) throw new Error(`--install-extension ${this.vsix} installed no ${extensionId}`);
    this.server = await startCodeServer({ tools: this.tools, dirs: this.dirs });
    // Even when a hard timeout ends the run before stop(), code-server must not outlive it.
    const pid = this.server.pid;
    process.once('exit', () => killGroup(pid));
    this.browser = await launchBrowser(loadPlaywright(this.tools), this.dirs);
    this.page = this.browser.pages()[0] ?? (await this.browser.newPage());
    this.page.on('console', (msg) => {
      this.console.push(`[${msg.type()}] ${unstyleConsole([msg.text()])}`);
      if (this.console.length > 200) this.console.shift();
    });
    this.page.on('pageerror', (err) => this.console.push(`[pageerror] ${err.message}`));
    await this.page.goto(`${this.server.url}?folder=${encodeURIComponent(this.dirs.workspace)}`, {
      waitUntil: 'domcontentloaded',
      timeout: 120_000,
    });
    await this.page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  }

  /** Picks a colour theme with "Preferences: Color Theme", as a user would. */
  async colorTheme(name) {
    await this.palette('Preferences: Color Theme');
    const input = this.page.locator('.quick-input-widget input.input');
    await input.fill(name);
    await this.page.locator('.quick-input-list .monaco-list-row').filter({ hasText: name }).first().waitFor();
    await this.page.keyboard.press('Enter');
  }

  /** The status bar item of the extension. */
  statusItem() {
    return this.page
      .locator('.statusbar-item')
      .filter({ hasText: /\b(SAFE|WARNING|CRITICAL|EMERGENCY)\b|Docker/ })
      .first();
  }

  /** The dashboard's content document (two iframes deep). */
  dashboard() {
    return this.page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
  }

  /** Runs a command from the command palette by its title, as a user would. */
  async palette(title) {
    await this.page.keyboard.press('F1');
    const input = this.page.locator('.quick-input-widget input.input');
    await input.waitFor();
    await input.fill(`>${title}`);
    const row = this.page.locator('.quick-input-list .monaco-list-row').filter({ hasText: title }).first();
    await row.waitFor();
    await row.click();
  }

  /** A modal dialog of the workbench (showWarningMessage with modal: true). */
  dialog() {
    return this.page.locator('.monaco-dialog-box');
  }

  async screenshot(name, target) {
    mkdirSync(imagesDir, { recursive: true });
    const path = join(imagesDir, `${name}.png`);
    if (target) await target.screenshot({ path });
    else await this.page.screenshot({ path });
    return path;
  }

  /** A stopped container that a test run left behind: ours to clean up, labelled with our tag. */
  orphan() {
    const name = `dstab-${this.tag}-orphan`;
    execFileSync('docker', [
      'run',
      '--name',
      name,
      '--network',
      'none',
      '--label',
      `docker-stability.run-id=${this.tag}`,
      TEST_IMAGE,
      'true',
    ]);
    this.containers.push(name);
    return name;
  }

  /** The name of the container holding 200 MB (load()): the heaviest consumer of this session. */
  get heavy() {
    return `dstab-${this.tag}-memory`;
  }

  /**
   * Real load for the charts to show: a container holding 200 MB in a tmpfs, one burning a
   * quarter of a core, a network and a volume; all labelled with our tag, removed in stop().
   */
  load() {
    const label = ['--label', `docker-stability.e2e=${this.tag}`];
    const run = (name, ...args) => {
      execFileSync('docker', ['run', '-d', '--name', name, '--network', 'none', ...label, ...args]);
      this.containers.push(name);
    };
    run(
      `dstab-${this.tag}-memory`,
      '--tmpfs',
      '/t:size=256m',
      TEST_IMAGE,
      'sh',
      '-c',
      'dd if=/dev/zero of=/t/fill bs=1M count=200 && sleep 600',
    );
    run(`dstab-${this.tag}-cpu`, '--cpus', '0.25', TEST_IMAGE, 'sh', '-c', 'yes > /dev/null');
    execFileSync('docker', ['network', 'create', ...label, `dstab-${this.tag}-net`]);
    this.networks = [`dstab-${this.tag}-net`];
    execFileSync('docker', ['volume', 'create', ...label, `dstab-${this.tag}-vol`]);
    this.volumes = [`dstab-${this.tag}-vol`];
  }

  containerExists(name) {
    return spawnSync('docker', ['container', 'inspect', name], { stdio: 'ignore' }).status === 0;
  }

  /** Runs the repo's CLI against the session's lock folder. */
  cli(args) {
    return execFileSync(process.execPath, [join(repoRoot, 'dist/cli.js'), ...args], {
      encoding: 'utf8',
      env: { ...process.env, DOCKER_STABILITY_HOME: this.dirs.stateHome },
      timeout: 30_000,
    });
  }

  /** A lock whose holder was SIGKILLed: the CLI keeper takes it, then dies without releasing. */
  async staleLock(name) {
    this.cli([
      'lock',
      'acquire',
      '--name',
      name,
      '--why',
      'e2e: a test run that crashed',
      '--dir',
      this.lockDir,
      '--stale',
      '2',
      '--timeout',
      '5',
    ]);
    const [status] = JSON.parse(
      this.cli(['lock', 'status', '--json', '--name', name, '--dir', this.lockDir, '--stale', '2']),
    );
    const pid = status?.holder?.pid;
    if (!pid) throw new Error(`lock ${name} has no holder pid: ${JSON.stringify(status)}`);
    process.kill(pid, 'SIGKILL');
    for (let i = 0; i < 50; i++) {
      const [s] = JSON.parse(
        this.cli(['lock', 'status', '--json', '--name', name, '--dir', this.lockDir, '--stale', '2']),
      );
      if (s?.stale) return s;
      await sleep(200);
    }
    throw new Error(`lock ${name} did not turn stale after its holder was killed`);
  }

  lockHeld(name) {
    const [s] = JSON.parse(
      this.cli(['lock', 'status', '--json', '--name', name, '--dir', this.lockDir, '--stale', '2']),
    );
    return Boolean(s?.held);
  }

  /** What a failed step prints: the browser console and the extension's log. */
  diagnostics() {
    const out = [`--- browser console (last ${this.console.length} lines) ---`, ...this.console];
    for (const f of extensionLogs(this.dirs))
      out.push(`--- ${f.slice(this.dirs.userData.length + 1)} ---`, tail(f, 80));
    if (this.server) out.push('--- code-server log ---', tail(this.server.logFile, 30));
    return out.join('\n');
  }

  async stop() {
    await this.browser?.close().catch(() => {});
    killGroup(this.server?.pid);
    for (const c of this.containers) spawnSync('docker', ['rm', '-f', '-v', c], { stdio: 'ignore' });
    for (const n of this.networks ?? []) spawnSync('docker', ['network', 'rm', n], { stdio: 'ignore' });
    for (const v of this.volumes ?? []) spawnSync('docker', ['volume', 'rm', v], { stdio: 'ignore' });
    if (!process.env.DOCKER_STABILITY_E2E_KEEP) rmSync(this.scratch, { recursive: true, force: true });
  }
}

/**
 * Runs in the page (Playwright evaluates its source there, so it uses nothing from this module):
 * pixels of the colour in the CSS variable `variable` of `body` (#3794ff where unset) on each
 * canvas matching `selector`. Evidence that a chart plotted data, since an empty chart still
 * draws its grid, ticks and threshold lines.
 */
/* global document, getComputedStyle -- runs in the webview */
export function countLinePixels(body, [variable, selector]) {
  const probe = document.createElement('canvas').getContext('2d');
  probe.fillStyle = getComputedStyle(body).getPropertyValue(variable).trim() || '#3794ff';
  probe.fillRect(0, 0, 1, 1);
  const [r, g, b] = probe.getImageData(0, 0, 1, 1).data;
  return [...document.querySelectorAll(selector)].map((c) => {
    const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (
        data[i + 3] > 200 &&
        Math.abs(data[i] - r) < 24 &&
        Math.abs(data[i + 1] - g) < 24 &&
        Math.abs(data[i + 2] - b) < 24
      )
        n++;
    }
    return n;
  });
}

/** countLinePixels() in the frame: the five resource charts by default. */
export async function linePixels(frame, cssVariable, selector = '.charts canvas') {
  return frame.locator('body').evaluate(countLinePixels, [cssVariable, selector]);
}
