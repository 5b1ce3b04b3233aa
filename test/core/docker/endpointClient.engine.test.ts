import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { DockerClient } from '../../../src/core/docker/client';
import { parseHost, resolveEndpoint } from '../../../src/core/docker/endpoint';
import { FakeDaemon, makeTlsFiles } from '../../helpers/fakeDaemon';
import { testClient } from '../../helpers/docker';
import { cli } from '../lock/helpers';

const REAL_SOCKET = 'unix:///var/run/docker.sock';
const DOCKER_ENV = [
  'DOCKER_HOST',
  'DOCKER_TLS_VERIFY',
  'DOCKER_CERT_PATH',
  'DOCKER_PATH_PREFIX',
  'DOCKER_CLIENT_TIMEOUT',
  'SSH_AUTH_SOCK',
];

/** Sets the Docker variables of this process for one test and puts the old values back. */
function useEnv(vars: Record<string, string>): () => void {
  const saved = Object.fromEntries(DOCKER_ENV.map((k) => [k, process.env[k]]));
  for (const k of DOCKER_ENV) delete process.env[k];
  Object.assign(process.env, vars);
  return () => {
    for (const k of DOCKER_ENV) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  };
}

/** A TCP listener that records the first bytes of each connection (an ssh client's banner) and hangs up. */
class BannerRecorder {
  readonly banners: string[] = [];
  private readonly server: Server = createServer((s) => {
    s.once('data', (d: Buffer) => {
      this.banners.push(d.toString('latin1'));
      s.destroy();
    });
    s.on('error', () => undefined);
  });
  async listen(): Promise<number> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return (this.server.address() as AddressInfo).port;
  }
  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}

/** The connection fields dockerode's transport (docker-modem) will use. */
function modemOf(client: DockerClient): Record<string, unknown> {
  return client.api.modem as unknown as Record<string, unknown>;
}

describe('the daemon acted on is the daemon named, whatever the environment says', function () {
  this.timeout(60_000);
  let realId = '';
  const fakes: FakeDaemon[] = [];
  let restoreEnv: (() => void) | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'dstab-endpoint-'));

  before(async () => {
    realId = String((await testClient().info()).ID);
  });
  afterEach(async () => {
    restoreEnv?.();
    restoreEnv = undefined;
    await Promise.all(fakes.splice(0).map((f) => f.close()));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function fake(
    id: string,
    opts: { socket?: string; tls?: { cert: string; key: string } } = {},
  ): Promise<[FakeDaemon, string]> {
    const f = new FakeDaemon(id, opts.tls);
    fakes.push(f);
    return [f, await f.listen(opts.socket)];
  }

  it('unix: a named socket is used even with DOCKER_HOST=tcp://… of another daemon in the environment', async () => {
    const [intruder, addr] = await fake('INTRUDER');
    restoreEnv = useEnv({
      DOCKER_HOST: `tcp://${addr}`,
      DOCKER_PATH_PREFIX: '/evil',
      DOCKER_CLIENT_TIMEOUT: '1',
    });
    const client = new DockerClient(parseHost(REAL_SOCKET, 'override'), { timeoutMs: 5000 });
    assert.equal((await client.info()).ID, realId);
    assert.deepEqual(intruder.requests, []);
  });

  it('tcp: a named tcp:// address is used, plain, with DOCKER_HOST=unix://…, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH set', async () => {
    const tls = makeTlsFiles();
    try {
      const [intruder, sock] = await fake('INTRUDER', { socket: join(dir, 'intruder.sock') });
      const [named, addr] = await fake('NAMED');
      restoreEnv = useEnv({
        DOCKER_HOST: `unix://${sock}`,
        DOCKER_TLS_VERIFY: '1',
        DOCKER_CERT_PATH: tls.dir,
      });
      const client = new DockerClient(parseHost(`tcp://${addr}`, 'override'), { timeoutMs: 5000 });
      assert.equal((await client.info()).ID, 'NAMED');
      assert.deepEqual(named.requests, ['/info']);
      assert.deepEqual(intruder.requests, []);
      assert.equal(modemOf(client).ca, undefined, 'no CA from DOCKER_CERT_PATH');
    } finally {
      tls.remove();
    }
  });

  it("tcp+TLS: the endpoint's own CA verifies the named daemon; the environment's certificates and address are not used", async () => {
    const named = makeTlsFiles();
    const other = makeTlsFiles();
    try {
      const [tlsFake, addr] = await fake('NAMED-TLS', { tls: { cert: named.cert, key: named.key } });
      const [intruder, intruderAddr] = await fake('INTRUDER');
      restoreEnv = useEnv({
        DOCKER_HOST: `tcp://${intruderAddr}`,
        DOCKER_TLS_VERIFY: '1',
        DOCKER_CERT_PATH: other.dir,
      });
      const client = new DockerClient(
        parseHost(`tcp://${addr}`, 'override', { ca: named.ca, verify: true }),
        { timeoutMs: 5000 },
      );
      assert.equal((await client.info()).ID, 'NAMED-TLS');
      assert.deepEqual(tlsFake.requests, ['/info']);
      assert.deepEqual(intruder.requests, []);
      assert.equal(modemOf(client).ca, named.ca);
    } finally {
      named.remove();
      other.remove();
    }
  });

  it('ssh: the named host, port and agent (and the local user) reach the ssh client, nothing from DOCKER_HOST=ssh://… or SSH_AUTH_SOCK', async () => {
    const namedSsh = new BannerRecorder();
    const intruderSsh = new BannerRecorder();
    const [namedPort, intruderPort] = await Promise.all([namedSsh.listen(), intruderSsh.listen()]);
    try {
      const endpoint = resolveEndpoint({
        env: { SSH_AUTH_SOCK: '/named/agent.sock' },
        override: `ssh://127.0.0.1:${namedPort}`,
      });
      assert.equal(endpoint.sshAgent, '/named/agent.sock');
      restoreEnv = useEnv({
        DOCKER_HOST: `ssh://intruder@127.0.0.1:${intruderPort}`,
        SSH_AUTH_SOCK: '/intruder/agent.sock',
      });
      const client = new DockerClient(endpoint, { timeoutMs: 2000 });
      const modem = modemOf(client);
      assert.deepEqual(
        {
          host: modem.host,
          port: modem.port,
          protocol: modem.protocol,
          username: modem.username,
          sshOptions: modem.sshOptions,
        },
        {
          host: '127.0.0.1',
          port: namedPort,
          protocol: 'ssh',
          username: userInfo().username,
          sshOptions: { agent: '/named/agent.sock', agentForward: false },
        },
      );
      await assert.rejects(client.ping());
      assert.equal(namedSsh.banners.length, 1, 'the ssh client connected to the named port');
      assert.match(namedSsh.banners[0] ?? '', /^SSH-2\.0-/);
      assert.deepEqual(intruderSsh.banners, []);
    } finally {
      await Promise.all([namedSsh.close(), intruderSsh.close()]);
    }
  });

  it('unix: no ssh agent, user or address is carried over from DOCKER_HOST=ssh://…, and a malformed DOCKER_HOST does not break a named endpoint', async () => {
    restoreEnv = useEnv({ DOCKER_HOST: 'ssh://intruder@127.0.0.1:1', SSH_AUTH_SOCK: '/intruder/agent.sock' });
    const modem = modemOf(new DockerClient(parseHost(REAL_SOCKET, 'override')));
    assert.deepEqual(
      {
        host: modem.host,
        socketPath: modem.socketPath,
        protocol: modem.protocol,
        username: modem.username,
        sshOptions: modem.sshOptions,
      },
      {
        host: undefined,
        socketPath: '/var/run/docker.sock',
        protocol: 'http',
        username: undefined,
        sshOptions: { agentForward: false },
      },
    );
    restoreEnv();
    restoreEnv = useEnv({ DOCKER_HOST: 'tcp://[not an address' });
    assert.equal(
      (await new DockerClient(parseHost(REAL_SOCKET, 'override'), { timeoutMs: 5000 }).info()).ID,
      realId,
    );
  });

  it('the CLI: `cleanup --host unix://…` plans on the named socket, never on the DOCKER_HOST of its environment', async () => {
    const [intruder, addr] = await fake('INTRUDER');
    const args = [
      'cleanup',
      '--dry-run',
      '--json',
      '--host',
      REAL_SOCKET,
      '--label',
      'docker-stability.test-fixture=none-such',
      '--lock-dir',
      join(dir, 'locks'),
    ];
    const r = await cli(args, { DOCKER_HOST: `tcp://${addr}` });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(intruder.requests, [], 'the fake daemon named by DOCKER_HOST was asked nothing');
    assert.match(r.stdout, /unix:\/\/\/var\/run\/docker\.sock/);
  });
});
