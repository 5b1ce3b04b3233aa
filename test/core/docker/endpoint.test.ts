import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isLocalSocket, parseHost, resolveEndpoint } from '../../../src/core/docker/endpoint';

/** A docker config folder laid out as the docker CLI writes it. */
class DockerConfigDir {
  readonly dir = mkdtempSync(join(tmpdir(), 'dstab-dockercfg-'));

  currentContext(name: string): this {
    writeFileSync(join(this.dir, 'config.json'), JSON.stringify({ auths: {}, currentContext: name }));
    return this;
  }

  /** `docker context create NAME --docker host=HOST[,ca=..,cert=..,key=..]` stores exactly this. */
  context(name: string, host: string, opts: { tls?: boolean; skipVerify?: boolean } = {}): this {
    const id = createHash('sha256').update(name).digest('hex');
    const metaDir = join(this.dir, 'contexts', 'meta', id);
    mkdirSync(metaDir, { recursive: true });
    writeFileSync(
      join(metaDir, 'meta.json'),
      JSON.stringify({
        Name: name,
        Metadata: {},
        Endpoints: { docker: { Host: host, SkipTLSVerify: !!opts.skipVerify } },
      }),
    );
    if (opts.tls) {
      const tlsDir = join(this.dir, 'contexts', 'tls', id, 'docker');
      mkdirSync(tlsDir, { recursive: true });
      for (const f of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(join(tlsDir, f), `${name}-${f}`);
    }
    return this;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

describe('resolveEndpoint', () => {
  const cfgs: DockerConfigDir[] = [];
  const cfg = (): DockerConfigDir => {
    const c = new DockerConfigDir();
    cfgs.push(c);
    return c;
  };
  after(() => cfgs.forEach((c) => c.remove()));

  // Every case names its environment explicitly: the machine's own DOCKER_* must not leak in.
  const home = mkdtempSync(join(tmpdir(), 'dstab-home-'));
  after(() => rmSync(home, { recursive: true, force: true }));

  it('defaults to the unix socket on Linux and macOS and the named pipe on Windows', () => {
    const linux = resolveEndpoint({ env: {}, platform: 'linux', home });
    assert.deepEqual(linux, {
      source: 'default',
      host: 'unix:///var/run/docker.sock',
      protocol: 'unix',
      socketPath: '/var/run/docker.sock',
    });
    assert.equal(resolveEndpoint({ env: {}, platform: 'darwin', home }).socketPath, '/var/run/docker.sock');
    const win = resolveEndpoint({ env: {}, platform: 'win32', home });
    assert.equal(win.protocol, 'npipe');
    assert.equal(win.socketPath, '\\\\.\\pipe\\docker_engine');
    assert.equal(win.host, 'npipe:////./pipe/docker_engine');
  });

  it('reads DOCKER_HOST in its unix, tcp, npipe and ssh forms', () => {
    const r = (h: string) => resolveEndpoint({ env: { DOCKER_HOST: h }, platform: 'linux', home });
    assert.deepEqual(r('unix:///run/user/1000/docker.sock'), {
      source: 'DOCKER_HOST',
      host: 'unix:///run/user/1000/docker.sock',
      protocol: 'unix',
      socketPath: '/run/user/1000/docker.sock',
    });
    const tcp = r('tcp://10.0.0.5:2375');
    assert.equal(tcp.protocol, 'http');
    assert.equal(tcp.hostname, '10.0.0.5');
    assert.equal(tcp.port, 2375);
    assert.equal(tcp.tls, undefined);
    assert.equal(r('tcp://docker.example').port, 2375, 'plain tcp defaults to 2375');
    const pipe = r('npipe:////./pipe/dockerDesktopLinuxEngine');
    assert.equal(pipe.socketPath, '\\\\.\\pipe\\dockerDesktopLinuxEngine');
    const ssh = r('ssh://me@build-box');
    assert.deepEqual([ssh.protocol, ssh.username, ssh.hostname, ssh.port], ['ssh', 'me', 'build-box', 22]);
    assert.equal(r('  unix:///x.sock  ').socketPath, '/x.sock', 'surrounding spaces are ignored');
  });

  it('upgrades tcp to https with TLS material from DOCKER_CERT_PATH and DOCKER_TLS_VERIFY', () => {
    const certs = cfg();
    for (const f of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(join(certs.dir, f), `env-${f}`);
    const ep = resolveEndpoint({
      env: { DOCKER_HOST: 'tcp://docker.example:2376', DOCKER_CERT_PATH: certs.dir, DOCKER_TLS_VERIFY: '1' },
      platform: 'linux',
      home,
    });
    assert.equal(ep.protocol, 'https');
    assert.equal(ep.port, 2376);
    assert.deepEqual(ep.tls, { ca: 'env-ca.pem', cert: 'env-cert.pem', key: 'env-key.pem', verify: true });

    const noVerify = resolveEndpoint({
      env: { DOCKER_HOST: 'tcp://docker.example', DOCKER_CERT_PATH: certs.dir },
      platform: 'linux',
      home,
    });
    assert.equal(noVerify.protocol, 'https');
    assert.equal(noVerify.port, 2376, 'TLS defaults to 2376');
    assert.equal(
      noVerify.tls?.verify,
      false,
      'DOCKER_TLS_VERIFY unset: certificates used, server not verified',
    );
  });

  it('takes DOCKER_TLS_VERIFY certificates from DOCKER_CONFIG when DOCKER_CERT_PATH is unset', () => {
    const c = cfg();
    writeFileSync(join(c.dir, 'ca.pem'), 'cfg-ca');
    const ep = resolveEndpoint({
      env: { DOCKER_HOST: 'tcp://h:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CONFIG: c.dir },
      platform: 'linux',
      home,
    });
    assert.equal(ep.protocol, 'https');
    assert.equal(ep.tls?.ca, 'cfg-ca');
  });

  it('finds the DOCKER_CONTEXT context in contexts/meta/<sha256(name)>/meta.json with its TLS files', () => {
    const c = cfg().context('remote-tls', 'tcp://builder.example:2376', { tls: true });
    const ep = resolveEndpoint({
      env: { DOCKER_CONFIG: c.dir, DOCKER_CONTEXT: 'remote-tls' },
      platform: 'linux',
      home,
    });
    assert.equal(ep.source, 'context remote-tls');
    assert.equal(ep.protocol, 'https');
    assert.equal(ep.hostname, 'builder.example');
    assert.equal(ep.port, 2376);
    assert.deepEqual(ep.tls, {
      ca: 'remote-tls-ca.pem',
      cert: 'remote-tls-cert.pem',
      key: 'remote-tls-key.pem',
      verify: true,
    });
  });

  it('honours SkipTLSVerify of a context', () => {
    const c = cfg().context('insecure', 'tcp://h:2376', { tls: true, skipVerify: true });
    const ep = resolveEndpoint({
      env: { DOCKER_CONFIG: c.dir, DOCKER_CONTEXT: 'insecure' },
      platform: 'linux',
      home,
    });
    assert.equal(ep.tls?.verify, false);
  });

  it('uses currentContext from config.json when DOCKER_CONTEXT is unset, and DOCKER_CONTEXT over it', () => {
    const c = cfg()
      .context('colima', 'unix:///home/me/.colima/default/docker.sock')
      .context('other', 'unix:///other.sock')
      .currentContext('colima');
    const fromConfig = resolveEndpoint({ env: { DOCKER_CONFIG: c.dir }, platform: 'linux', home });
    assert.equal(fromConfig.source, 'context colima');
    assert.equal(fromConfig.socketPath, '/home/me/.colima/default/docker.sock');
    const fromEnv = resolveEndpoint({
      env: { DOCKER_CONFIG: c.dir, DOCKER_CONTEXT: 'other' },
      platform: 'linux',
      home,
    });
    assert.equal(fromEnv.socketPath, '/other.sock');
  });

  it('finds the docker config under HOME/.docker when DOCKER_CONFIG is unset', () => {
    const h = cfg();
    const dotDocker = join(h.dir, '.docker');
    mkdirSync(dotDocker);
    writeFileSync(join(dotDocker, 'config.json'), JSON.stringify({ currentContext: 'missing-one' }));
    assert.throws(
      () => resolveEndpoint({ env: { HOME: h.dir }, platform: 'linux' }),
      /docker context "missing-one" not found/,
    );
  });

  it('an ssh endpoint carries the agent socket of the environment it was resolved in; other kinds carry none', () => {
    const env = { SSH_AUTH_SOCK: '/run/agent.sock', DOCKER_HOST: 'ssh://me@h:2222' };
    const ssh = resolveEndpoint({ env, platform: 'linux', home });
    assert.deepEqual(
      [ssh.protocol, ssh.username, ssh.port, ssh.sshAgent],
      ['ssh', 'me', 2222, '/run/agent.sock'],
    );
    assert.equal(
      resolveEndpoint({ env, platform: 'linux', home, override: 'unix:///x.sock' }).sshAgent,
      undefined,
    );
    assert.equal(
      resolveEndpoint({ env: { DOCKER_HOST: 'ssh://h' }, platform: 'linux', home }).sshAgent,
      undefined,
    );
  });

  it('DOCKER_HOST wins over the context, and an override wins over both', () => {
    const c = cfg().context('ctx', 'unix:///ctx.sock').currentContext('ctx');
    const env = { DOCKER_CONFIG: c.dir, DOCKER_HOST: 'unix:///env.sock' };
    assert.equal(resolveEndpoint({ env, platform: 'linux', home }).socketPath, '/env.sock');
    const o = resolveEndpoint({ env, platform: 'linux', home, override: 'tcp://127.0.0.1:2375' });
    assert.equal(o.source, 'override');
    assert.equal(o.hostname, '127.0.0.1');
  });

  it('treats the `default` context as the platform default, even with no meta.json for it', () => {
    const c = cfg().currentContext('default');
    assert.equal(
      resolveEndpoint({ env: { DOCKER_CONFIG: c.dir }, platform: 'linux', home }).source,
      'default',
    );
    assert.equal(
      resolveEndpoint({ env: { DOCKER_CONFIG: c.dir, DOCKER_CONTEXT: 'default' }, platform: 'win32', home })
        .protocol,
      'npipe',
    );
  });

  it('names a missing context and where it looked', () => {
    const c = cfg();
    assert.throws(
      () =>
        resolveEndpoint({ env: { DOCKER_CONFIG: c.dir, DOCKER_CONTEXT: 'nope' }, platform: 'linux', home }),
      (err: Error) =>
        err.message === `docker context "nope" not found under ${join(c.dir, 'contexts', 'meta')}`,
    );
  });

  it('ignores a malformed config.json and falls back to the default socket', () => {
    const c = cfg();
    writeFileSync(join(c.dir, 'config.json'), '{ not json');
    assert.equal(
      resolveEndpoint({ env: { DOCKER_CONFIG: c.dir }, platform: 'linux', home }).source,
      'default',
    );
  });

  it('rejects unparseable and unsupported addresses with a clear error naming the source', () => {
    assert.throws(
      () => resolveEndpoint({ env: { DOCKER_HOST: 'not a url' }, platform: 'linux', home }),
      /invalid Docker endpoint "not a url" \(from DOCKER_HOST\): expected unix:\/\/, tcp:\/\/, npipe:\/\/ or ssh:\/\//,
    );
    assert.throws(
      () => parseHost('fd://', 'override'),
      /unsupported Docker endpoint "fd:\/\/" \(from override\)/,
    );
  });

  it('calls only unix sockets and named pipes local', () => {
    assert.ok(isLocalSocket(parseHost('unix:///var/run/docker.sock', 't')));
    assert.ok(isLocalSocket(parseHost('npipe:////./pipe/docker_engine', 't')));
    assert.ok(!isLocalSocket(parseHost('tcp://127.0.0.1:2375', 't')));
    assert.ok(!isLocalSocket(parseHost('ssh://u@h', 't')));
  });
});
