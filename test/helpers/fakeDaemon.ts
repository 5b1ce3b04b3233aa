import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A fake Docker API on loopback (TCP, TLS or a unix socket) that answers the calls a cleanup
 * pass or a sample makes with an empty daemon of its own ID, and records every path asked
 * for: a test proves which daemon a client really talked to.
 */
export class FakeDaemon {
  readonly requests: string[] = [];
  private readonly server: Server;

  /** Paths answered with a 500 and this message instead (a daemon's error, as it words it). */
  readonly failures = new Map<string, string>();

  constructor(
    readonly id: string,
    tls?: { cert: string; key: string },
  ) {
    const handler = (req: IncomingMessage, res: ServerResponse): void => this.answer(req, res);
    this.server = tls ? createHttpsServer(tls, handler) : createHttpServer(handler);
  }

  private answer(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').replace(/^\/v[\d.]+/, '').split('?')[0] ?? '/';
    this.requests.push(path);
    const json = (body: unknown): void => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Api-Version': '1.41' });
      res.end(JSON.stringify(body));
    };
    const failure = this.failures.get(path);
    if (failure !== undefined) {
      res.writeHead(500, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ message: failure }));
    } else if (path === '/_ping') {
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Api-Version': '1.41' });
      res.end('OK');
    } else if (path === '/info')
      json({ ID: this.id, Name: `fake-${this.id}`, NCPU: 1, MemTotal: 1 << 30, ServerVersion: '20.10.0' });
    else if (path === '/version') json({ Version: '20.10.0', ApiVersion: '1.41' });
    else if (path === '/volumes') json({ Volumes: [], Warnings: null });
    else if (path === '/containers/json' || path === '/networks' || path === '/images/json') json([]);
    else {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ message: `fake daemon: no ${path}` }));
    }
  }

  /** Listens on 127.0.0.1 (a free port) or on the unix socket `path`; resolves to the address. */
  listen(path?: string): Promise<string> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      const done = (): void => resolve(path ?? `127.0.0.1:${(this.server.address() as AddressInfo).port}`);
      if (path) this.server.listen(path, done);
      else this.server.listen(0, '127.0.0.1', done);
    });
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** A throw-away CA and a server certificate for 127.0.0.1 signed by it (openssl, argument arrays). */
export function makeTlsFiles(): { dir: string; ca: string; cert: string; key: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'dstab-tls-'));
  const f = (n: string): string => join(dir, n);
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { stdio: 'ignore', timeout: 30_000 });
  };
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=dstab test CA',
    '-keyout',
    f('ca-key.pem'),
    '-out',
    f('ca.pem'),
  );
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=127.0.0.1',
    '-keyout',
    f('key.pem'),
    '-out',
    f('server.csr'),
  );
  writeFileSync(f('san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  openssl(
    'x509',
    '-req',
    '-in',
    f('server.csr'),
    '-CA',
    f('ca.pem'),
    '-CAkey',
    f('ca-key.pem'),
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    f('san.ext'),
    '-out',
    f('cert.pem'),
  );
  const read = (n: string): string => readFileSync(f(n), 'utf8');
  return {
    dir,
    ca: read('ca.pem'),
    cert: read('cert.pem'),
    key: read('key.pem'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
