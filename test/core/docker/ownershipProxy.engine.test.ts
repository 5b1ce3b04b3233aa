import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import Docker from 'dockerode';
import { DockerClient } from '../../../src/core/docker/client';
import { parseHost } from '../../../src/core/docker/endpoint';
import { startOwnershipProxy, type OwnershipProxy } from '../../../src/core/docker/ownershipProxy';
import { Labels } from '../../../src/core/labels';
import { hostId } from '../../../src/core/lock/process';
import { DockerFixture, TEST_IMAGE, testClient } from '../../helpers/docker';

const DOCKER = '/usr/local/bin/docker';

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a client program (argument array) with DOCKER_HOST set, feeding `input` to its stdin; bounded in time. */
function client(
  file: string,
  args: string[],
  dockerHost: string,
  input?: string,
  timeoutMs = 60_000,
): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      env: { ...process.env, DOCKER_HOST: dockerHost, DOCKER_CONTEXT: '' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${file} ${args.join(' ')} did not finish in ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input ?? '');
  });
}

/** Writes raw HTTP to a unix socket, a pause between writes, until the answer matches `done` (10 s at most). */
async function exchange(socketPath: string, writes: string[], done: RegExp): Promise<string> {
  const sock = createConnection(socketPath);
  let text = '';
  sock.on('data', (d: Buffer) => (text += d.toString('latin1')));
  try {
    for (const w of writes) {
      sock.write(w);
      await new Promise((r) => setTimeout(r, 30));
    }
    const deadline = Date.now() + 10_000;
    while (!done.test(text) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return text;
  } finally {
    sock.destroy();
  }
}

/**
 * The run's own DOCKER_HOST on the real engine, with three real clients: the docker CLI,
 * docker-compose 1.29 and dockerode. Everything they create through it carries the run's
 * labels; what is created on the real socket meanwhile does not.
 */
describe('runs: the ownership proxy (a run’s own DOCKER_HOST, real engine)', function () {
  this.timeout(120_000);
  const real = testClient();
  const fixture = new DockerFixture(real);
  let runId: string;
  let proxy: OwnershipProxy;
  let work: string;

  beforeEach(async () => {
    runId = `proxy${randomBytes(4).toString('hex')}`;
    proxy = await startOwnershipProxy({ endpoint: real.endpoint, runId });
    work = mkdtempSync(join(tmpdir(), 'ds-proxy-'));
  });

  afterEach(async () => {
    await proxy.close();
    const filters = { label: [`${Labels.runId}=${runId}`] };
    for (const c of await real.api.listContainers({ all: true, filters }))
      await real.api.getContainer(c.Id).remove({ force: true, v: true });
    for (const n of await real.api.listNetworks({ filters })) await real.api.getNetwork(n.Id).remove();
    for (const v of (await real.api.listVolumes({ filters })).Volumes ?? [])
      await real.api.getVolume(v.Name).remove();
    await fixture.cleanup();
    rmSync(work, { recursive: true, force: true });
  });

  const owned = async () => {
    const filters = { label: [`${Labels.runId}=${runId}`] };
    return {
      containers: (await real.api.listContainers({ all: true, filters })).map((c) =>
        c.Names[0]?.replace(/^\//, ''),
      ),
      networks: (await real.api.listNetworks({ filters })).map((n) => n.Name),
      volumes: ((await real.api.listVolumes({ filters })).Volumes ?? []).map((v) => v.Name),
    };
  };

  it('lives in a private folder (0700) as a unix socket, stamps owner, pid and host identity, and is removed on close', async () => {
    assert.match(proxy.dockerHost, /^unix:\/\//);
    const dir = join(proxy.socketPath, '..');
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.ok(statSync(proxy.socketPath).isSocket());
    assert.deepEqual(proxy.labels, {
      [Labels.runId]: runId,
      [Labels.runPid]: String(process.pid),
      [Labels.runHost]: hostId(),
    });
    await proxy.close();
    assert.equal(existsSync(dir), false);
  });

  it('docker CLI: run (attached, with stdin), exec, logs -f, volume and network create all work and all carry the label', async () => {
    const host = proxy.dockerHost;
    const name = (s: string) => `dstab-${runId}-${s}`;
    const echo = await client(
      DOCKER,
      ['run', '--network', 'none', '--name', name('echo'), TEST_IMAGE, 'echo', 'hello'],
      host,
    );
    assert.equal(echo.code, 0, echo.stderr);
    assert.equal(echo.stdout, 'hello\n');
    // stdin through a hijacked connection, ended by a half close.
    const cat = await client(
      DOCKER,
      ['run', '-i', '--network', 'none', '--name', name('cat'), TEST_IMAGE, 'cat'],
      host,
      'through stdin\n',
    );
    assert.equal(cat.code, 0, cat.stderr);
    assert.equal(cat.stdout, 'through stdin\n');
    const exitCode = await client(
      DOCKER,
      ['run', '--network', 'none', '--name', name('exit'), TEST_IMAGE, 'sh', '-c', 'exit 3'],
      host,
    );
    assert.equal(exitCode.code, 3, exitCode.stderr);

    const sleeper = await client(
      DOCKER,
      ['run', '-d', '--init', '--network', 'none', '--name', name('sleep'), TEST_IMAGE, 'sleep', '300'],
      host,
    );
    assert.equal(sleeper.code, 0, sleeper.stderr);
    const exec = await client(DOCKER, ['exec', name('sleep'), 'echo', 'from exec'], host);
    assert.equal(exec.stdout, 'from exec\n', exec.stderr);
    const execIn = await client(DOCKER, ['exec', '-i', name('sleep'), 'cat'], host, 'exec stdin\n');
    assert.equal(execIn.stdout, 'exec stdin\n', execIn.stderr);

    const ticker = await client(
      DOCKER,
      [
        'run',
        '-d',
        '--network',
        'none',
        '--name',
        name('tick'),
        TEST_IMAGE,
        'sh',
        '-c',
        'for i in 1 2 3; do echo tick $i; sleep 0.3; done',
      ],
      host,
    );
    assert.equal(ticker.code, 0, ticker.stderr);
    const logs = await client(DOCKER, ['logs', '-f', name('tick')], host);
    assert.equal(logs.stdout, 'tick 1\ntick 2\ntick 3\n', logs.stderr);

    assert.equal((await client(DOCKER, ['volume', 'create', name('vol')], host)).code, 0);
    const net = await client(
      DOCKER,
      ['network', 'create', '--internal', '--subnet', '10.199.7.0/28', name('net')],
      host,
    );
    assert.equal(net.code, 0, net.stderr);
    const inspect = await client(
      DOCKER,
      ['inspect', '--format', '{{index .Config.Labels "docker-stability.run-id"}}', name('sleep')],
      host,
    );
    assert.equal(inspect.stdout.trim(), runId);

    const o = await owned();
    assert.deepEqual(o.containers.sort(), ['cat', 'echo', 'exit', 'sleep', 'tick'].map(name).sort());
    assert.deepEqual(o.networks, [name('net')]);
    assert.deepEqual(o.volumes, [name('vol')]);
  });

  it('docker-compose 1.29: up (attached), its volume and network carry the label', async () => {
    const file = join(work, 'docker-compose.yml');
    writeFileSync(
      file,
      [
        'version: "2.4"',
        'services:',
        '  app:',
        `    image: ${TEST_IMAGE}`,
        '    command: ["sh", "-c", "echo compose-up > /data/x && cat /data/x"]',
        '    networks: [inner]',
        '    volumes: ["data:/data"]',
        'networks:',
        '  inner:',
        '    internal: true',
        '    ipam: { config: [{ subnet: 10.199.8.0/28 }] }',
        'volumes:',
        '  data: {}',
      ].join('\n'),
    );
    const project = `dstab${runId}`;
    const up = await client(
      'docker-compose',
      ['-f', file, '-p', project, 'up', '--abort-on-container-exit'],
      proxy.dockerHost,
    );
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, /compose-up/);
    const o = await owned();
    assert.deepEqual(o.containers, [`${project}_app_1`]);
    assert.deepEqual(o.networks, [`${project}_inner`]);
    assert.deepEqual(o.volumes, [`${project}_data`]);
  });

  it('dockerode: create, hijacked attach with stdin, start, wait, logs follow and volume create; a create on the real socket at the same moment carries nothing', async () => {
    const api = new Docker({ socketPath: proxy.socketPath });
    const [c, foreign] = await Promise.all([
      api.createContainer({
        Image: TEST_IMAGE,
        Cmd: ['sh', '-c', 'cat; echo done'],
        OpenStdin: true,
        StdinOnce: true,
        AttachStdin: true,
        AttachStdout: true,
        Labels: { mine: 'yes' },
        HostConfig: { NetworkMode: 'none' },
      }),
      fixture.container({ cmd: ['true'], start: false }),
    ]);
    const stream = (await c.attach({
      stream: true,
      stdin: true,
      stdout: true,
      stderr: true,
      hijack: true,
    })) as NodeJS.ReadWriteStream;
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => (text += d.toString()));
    api.modem.demuxStream(stream, out, out);
    await c.start();
    stream.end('via dockerode\n');
    const waited = (await c.wait()) as { StatusCode: number };
    assert.equal(waited.StatusCode, 0);
    const deadline = Date.now() + 10_000;
    while (!text.includes('done') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(text, 'via dockerode\ndone\n');
    const logs = (await c.logs({ follow: true, stdout: true })) as unknown as NodeJS.ReadableStream;
    let logText = '';
    const demuxed = new PassThrough();
    demuxed.on('data', (d: Buffer) => (logText += d.toString()));
    api.modem.demuxStream(logs, demuxed, demuxed);
    await new Promise((r) => logs.once('end', r));
    assert.match(logText, /done/);
    const info = await c.inspect();
    assert.equal(info.Config.Labels[Labels.runId], runId);
    assert.equal(info.Config.Labels.mine, 'yes', 'the client’s own labels are kept');
    await api.createVolume({ Name: `dstab-${runId}-dv` });

    const other = await foreign.inspect();
    assert.equal(other.Config.Labels[Labels.runId], undefined);
    assert.equal(other.Config.Labels[Labels.runPid], undefined);
    const o = await owned();
    assert.equal(o.containers.length, 1);
    assert.deepEqual(o.volumes, [`dstab-${runId}-dv`]);
  });

  it('stamps a chunked create body split across writes, with the /v1.xx prefix, and keeps the connection usable for the next request', async () => {
    const name = `dstab-${runId}-chunked`;
    const body = JSON.stringify({ Name: name, Labels: { own: 'x' } });
    const half = Math.floor(body.length / 2);
    const text = await exchange(
      proxy.socketPath,
      [
        'POST /v1.41/volumes/create HTTP/1.1\r\nHost: docker\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n',
        `${half.toString(16)}\r\n${body.slice(0, half)}\r\n`,
        `${(body.length - half).toString(16)}\r\n${body.slice(half)}\r\n0\r\n\r\n`,
        'GET /_ping HTTP/1.1\r\nHost: docker\r\n\r\n',
      ],
      /\r\n\r\nOK$/,
    );
    assert.match(text, /^HTTP\/1\.1 201 Created/);
    assert.match(text, /\r\n\r\nOK$/, 'the ping after the create was answered on the same connection');
    const v = await real.api.getVolume(name).inspect();
    assert.deepEqual(v.Labels, { own: 'x', ...proxy.labels });
  });

  it('refuses a malformed request, conflicting lengths and an oversized create body with a clear answer, creating nothing', async () => {
    const bad = await exchange(proxy.socketPath, ['NOT HTTP AT ALL\r\n\r\n'], /\}$/);
    assert.match(
      bad,
      /^HTTP\/1\.1 400 Bad Request\r\n[\s\S]*"message":"docker-stability proxy: malformed request"\}$/,
    );
    const lengths = await exchange(
      proxy.socketPath,
      ['POST /volumes/create HTTP/1.1\r\nHost: d\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}'],
      /\}$/,
    );
    assert.match(lengths, /^HTTP\/1\.1 400 Bad Request[\s\S]*malformed Content-Length/);
    const big = await exchange(
      proxy.socketPath,
      [
        'POST /v1.41/containers/create HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\nContent-Length: 99999999\r\n\r\n{',
      ],
      /\}$/,
    );
    assert.match(big, /^HTTP\/1\.1 413 Payload Too Large[\s\S]*create body too large/);
    assert.deepEqual(await owned(), { containers: [], networks: [], volumes: [] });
  });

  it('answers 502 with the reason when the real daemon cannot be reached, and refuses to proxy ssh', async () => {
    const dead = await startOwnershipProxy({
      endpoint: parseHost(`unix://${join(work, 'none.sock')}`, 'test'),
      runId,
    });
    try {
      const c = new DockerClient(parseHost(dead.dockerHost, 'test'), { timeoutMs: 5000 });
      await assert.rejects(c.api.version(), (err: { statusCode?: number; message: string }) => {
        assert.equal(err.statusCode, 502);
        assert.match(err.message, /cannot reach unix:\/\/.*none\.sock/);
        return true;
      });
    } finally {
      await dead.close();
    }
    await assert.rejects(
      startOwnershipProxy({ endpoint: parseHost('ssh://me@example.invalid', 'test'), runId }),
      /cannot forward to ssh:\/\//,
    );
  });

  it('merges every spelling of Labels in a create body into one (the daemon reads field names case-insensitively), the run’s winning', async () => {
    const name = `dstab-${runId}-spelling`;
    const body = JSON.stringify({
      Name: name,
      labels: { a: '1' },
      Labels: { b: '2', [Labels.runId]: 'forged' },
    });
    const text = await exchange(
      proxy.socketPath,
      [
        `POST /volumes/create HTTP/1.1\r\nHost: docker\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      ],
      /\r\n\r\n[\s\S]*\}\s*$/,
    );
    assert.match(text, /^HTTP\/1\.1 201 Created/);
    const v = await real.api.getVolume(name).inspect();
    assert.deepEqual(v.Labels, { a: '1', b: '2', ...proxy.labels });
  });
});
