// Shared by the extension-host tests, the browser end-to-end checks, the extension benchmark
// and `npm run try`: install (if needed) and start code-server in its own process group with
// every folder it writes pointed into a scratch folder, and open its workbench in Debian's
// Chromium with playwright-core. Facts behind each step: shared/TESTING.md.
import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { format } from 'node:util';

export const repoRoot = resolve(import.meta.dirname, '../..');
export const extensionId = 'docker-stability.docker-stability';

/** Installs code-server and playwright-core when missing (idempotent) and returns the tool folder. */
export function ensureTools() {
  const r = spawnSync('bash', [join(repoRoot, 'scripts/install-code-server.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = (r.stdout ?? '').trim().split('\n');
  if (r.status !== 0) {
    process.stderr.write(r.stdout ?? '');
    throw new Error(`scripts/install-code-server.sh failed (exit ${r.status})`);
  }
  return lines[lines.length - 1];
}

export function loadPlaywright(tools) {
  return createRequire(join(tools, 'node_modules', 'noop.js'))('playwright-core');
}

export function codeServerBin(tools) {
  return join(tools, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
}

async function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

function healthy(port) {
  return new Promise((res) => {
    const req = get({ host: '127.0.0.1', port, path: '/healthz', timeout: 1000 }, (r) => {
      r.resume();
      res(r.statusCode === 200);
    });
    req.on('error', () => res(false));
    req.on('timeout', () => {
      req.destroy();
      res(false);
    });
  });
}

/** Settings that keep the workbench quiet and offline: no welcome page, no update or gallery checks. */
export const quietSettings = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'security.workspace.trust.enabled': false,
  'git.enabled': false,
  'git.autoRepositoryDetection': false,
  'chat.commandCenter.enabled': false,
};

/**
 * Prepares the scratch layout under `scratch`: user data (with `settings`), extensions,
 * temp and XDG folders, a state folder for docker-stability and a workspace folder.
 */
export function scratchLayout(scratch, settings = {}) {
  const dirs = {
    userData: join(scratch, 'user-data'),
    extensions: join(scratch, 'extensions'),
    tmp: join(scratch, 'tmp'),
    xdgConfig: join(scratch, 'xdg-config'),
    xdgData: join(scratch, 'xdg-data'),
    xdgCache: join(scratch, 'xdg-cache'),
    stateHome: join(scratch, 'docker-stability-home'),
    workspace: join(scratch, 'workspace'),
    browser: join(scratch, 'browser'),
  };
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
  mkdirSync(join(dirs.userData, 'User'), { recursive: true });
  writeFileSync(
    join(dirs.userData, 'User', 'settings.json'),
    JSON.stringify({ ...quietSettings, ...settings }, null, 2),
  );
  // code-server windows are remote windows: VS Code takes settings of machine and
  // machine-overridable scope (dockerStability.lock.folder, lock.staleSeconds) from the
  // machine's settings (<user data>/Machine/settings.json) and ignores them in the user's,
  // at least once it knows their scope, which can be before or after the extension activates.
  const machine = Object.fromEntries(Object.entries(settings).filter(([key]) => machineScoped.has(key)));
  if (Object.keys(machine).length > 0) {
    mkdirSync(join(dirs.userData, 'Machine'), { recursive: true });
    writeFileSync(join(dirs.userData, 'Machine', 'settings.json'), JSON.stringify(machine, null, 2));
  }
  return dirs;
}

/** This extension's settings that VS Code reads from machine settings in a remote window. */
const machineScoped = new Set(
  Object.entries(
    JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).contributes.configuration.properties ??
      {},
  )
    .filter(([, spec]) => spec.scope === 'machine' || spec.scope === 'machine-overridable')
    .map(([key]) => key),
);

/** The environment code-server (and so the extension host) runs with. */
export function codeServerEnv(dirs, extra = {}) {
  return {
    ...process.env,
    TMPDIR: dirs.tmp,
    XDG_CONFIG_HOME: dirs.xdgConfig,
    XDG_DATA_HOME: dirs.xdgData,
    XDG_CACHE_HOME: dirs.xdgCache,
    DOCKER_STABILITY_HOME: dirs.stateHome,
    // No extension gallery: nothing may leave the machine.
    EXTENSIONS_GALLERY: '{}',
    ...extra,
  };
}

/** Runs code-server's own CLI once (e.g. --install-extension) against the scratch folders. */
export function codeServerCli(tools, dirs, args) {
  const r = spawnSync(
    process.execPath,
    [codeServerBin(tools), '--user-data-dir', dirs.userData, '--extensions-dir', dirs.extensions, ...args],
    {
      env: codeServerEnv(dirs),
      encoding: 'utf8',
      timeout: 120_000,
    },
  );
  if (r.status !== 0)
    throw new Error(`code-server ${args.join(' ')} failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/**
 * Starts code-server in a new session (its own process group, so the extension host and
 * every helper it forks die with it) and waits for /healthz. Returns { url, port, pid, logFile, stop }.
 */
export async function startCodeServer({
  tools,
  dirs,
  env = {},
  port,
  host = '127.0.0.1',
  readyTimeoutMs = 60_000,
}) {
  port ??= await freePort();
  const config = join(dirs.xdgConfig, 'code-server.yaml');
  writeFileSync(config, `bind-addr: ${host}:${port}\nauth: none\ncert: false\n`);
  const logFile = join(dirs.tmp, '..', 'code-server.log');
  const out = openSync(logFile, 'a');
  const args = [
    codeServerBin(tools),
    '--config',
    config,
    '--bind-addr',
    `${host}:${port}`,
    '--auth',
    'none',
    '--user-data-dir',
    dirs.userData,
    '--extensions-dir',
    dirs.extensions,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    '--ignore-last-opened',
    dirs.workspace,
  ];
  // detached = setsid(): a new session and process group, killed as one in stop().
  const child = spawn(process.execPath, args, {
    detached: true,
    stdio: ['ignore', out, out],
    env: codeServerEnv(dirs, env),
  });
  closeSync(out);
  let exited = null;
  child.on('exit', (code, signal) => (exited = { code, signal }));
  const stop = () => killGroup(child.pid);
  const deadline = Date.now() + readyTimeoutMs;
  while (!(await healthy(port))) {
    if (exited)
      throw new Error(
        `code-server exited before it was ready (${JSON.stringify(exited)}):\n${tail(logFile)}`,
      );
    if (Date.now() > deadline) {
      stop();
      throw new Error(`code-server did not answer /healthz within ${readyTimeoutMs} ms:\n${tail(logFile)}`);
    }
    await sleep(200);
  }
  return { url: `http://${host}:${port}/`, host, port, pid: child.pid, logFile, stop };
}

/** Kills a whole process group: TERM, then KILL for whatever ignored it. Never throws. */
export function killGroup(pid) {
  if (!pid) return;
  for (const sig of ['SIGTERM', 'SIGKILL']) {
    try {
      process.kill(-pid, sig);
    } catch {
      return;
    }
    if (sig === 'SIGTERM') spawnSync('sleep', ['0.5']);
  }
}

export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
  '--disable-features=Translate,MediaRouter,OptimizationHints',
];

/** Debian's Chromium through playwright-core, with a fresh profile. Never a downloaded browser. */
export async function launchBrowser(
  playwright,
  dirs,
  { colorScheme = 'light', viewport = { width: 1400, height: 900 } } = {},
) {
  if (!existsSync('/usr/bin/chromium'))
    throw new Error('/usr/bin/chromium is missing: run scripts/install-code-server.sh');
  return playwright.chromium.launchPersistentContext(dirs.browser, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: chromiumArgs,
    colorScheme,
    viewport,
  });
}

/** The last `lines` lines of a text file, or a note that it is missing. */
export function tail(file, lines = 60) {
  if (!existsSync(file)) return `(no ${file})`;
  return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
}

/** Every log file code-server and the extension host wrote, newest session only, with names. */
export function extensionLogs(dirs, match = /docker-stability|exthost|remoteexthost/i) {
  const found = [];
  const walk = (d) => {
    if (!existsSync(d)) return;
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.log') && match.test(p)) found.push(p);
    }
  };
  walk(join(dirs.userData, 'logs'));
  return found;
}

/**
 * One page console message as text. The workbench logs the extension host's console as
 * `('%c INFO', css, fmt, ...args)`: the styling is dropped and the rest formatted the way
 * Node's console would have.
 */
export function unstyleConsole(args) {
  const values = [...args];
  let head = '';
  if (typeof values[0] === 'string' && values[0].includes('%c')) {
    const styles = (values[0].match(/%c/g) ?? []).length;
    head = values[0].replace(/%c/g, '').trim();
    values.splice(0, 1 + styles);
  }
  const body = format(...values);
  return head ? `${head} ${body}` : body;
}
