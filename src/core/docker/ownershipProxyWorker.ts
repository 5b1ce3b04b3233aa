// The ownership proxy's worker thread (ownershipProxy.ts starts it): the socket server that
// forwards bytes and stamps labels onto create bodies.
import type { Server, Socket } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import type { WorkerData, WorkerMessage } from './ownershipProxy';

/**
 * The worker's whole program. It is sent to the worker as source text, so it refers to nothing
 * outside itself but Node's built-in modules, required inside.
 */
export function proxyWorker(): void {
  /* eslint-disable @typescript-eslint/no-require-imports -- the worker gets this function as source text: it has no module scope to import into */
  const { parentPort, workerData } = require('node:worker_threads') as typeof import('node:worker_threads');
  const net = require('node:net') as typeof import('node:net');
  const tls = require('node:tls') as typeof import('node:tls');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const port = parentPort as import('node:worker_threads').MessagePort;
  const { socketPath, upstream, endpointHost, labels } = workerData as WorkerData;
  const post = (m: WorkerMessage): void => port.postMessage(m);
  const sockets = new Set<Socket>();
  const connectUp = (): Socket =>
    upstream.tls
      ? tls.connect({ ...upstream.options, allowHalfOpen: true } as ConnectionOptions)
      : net.connect({ ...upstream.options, allowHalfOpen: true } as import('node:net').NetConnectOpts);
  const server: Server = net.createServer({ allowHalfOpen: true }, (client) => {
    sockets.add(client);
    client.once('close', () => sockets.delete(client));
    const up = connectUp();
    sockets.add(up);
    up.once('close', () => sockets.delete(up));
    bridge(client, up, labels, endpointHost);
  });
  server.on('error', (err) => post({ error: err.message }));
  server.listen(socketPath, () => post({ listening: true }));
  port.on('message', () => {
    server.close(() => post({ closed: true }));
    for (const s of sockets) s.destroy();
  });

  const MAX_HEAD_BYTES = 64 * 1024;
  /** A create body is a few KB; anything this large is refused rather than held in memory. */
  const MAX_CAPTURED_BODY_BYTES = 4 * 1024 * 1024;
  const MAX_CHUNK_LINE_BYTES = 4096;
  const CREATE_PATH = /^(?:\/v\d+(?:\.\d+)?)?\/(?:containers|networks|volumes)\/create$/;
  const EXEC_START_PATH = /^(?:\/v\d+(?:\.\d+)?)?\/exec\/[^/]+\/start$/;
  const ATTACH_PATH = /^(?:\/v\d+(?:\.\d+)?)?\/containers\/[^/]+\/attach$/;

  interface Head {
    method: string;
    /** The request target as sent (path and query). */
    target: string;
    /** The target without its query. */
    path: string;
    version: string;
    headers: Array<[string, string]>;
    /** The head exactly as received, for requests forwarded unchanged. */
    raw: Buffer;
  }

  type Framing = { kind: 'none' } | { kind: 'length'; length: number } | { kind: 'chunked' };

  /** Copies client bytes to the daemon request by request, rewriting create bodies; daemon bytes go back untouched. */
  function bridge(client: Socket, up: Socket, labels: Record<string, string>, endpointHost: string): void {
    let answered = false;
    up.once('data', () => (answered = true));
    up.pipe(client);
    up.on('error', (err) => {
      post({ debug: `ownership proxy: ${endpointHost}: ${err.message}` });
      if (!answered && !client.destroyed) {
        const body = JSON.stringify({
          message: `docker-stability proxy: cannot reach ${endpointHost}: ${err.message}`,
        });
        client.end(
          `HTTP/1.1 502 Bad Gateway\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
        );
      } else client.destroy();
    });
    client.on('error', () => up.destroy());
    client.once('close', () => up.destroy());

    // What one client read turns into goes out in one write: a daemon that hijacks a connection
    // drops the bytes it had read with the head (the body dockerode sends with an attach), and
    // splitting them over two writes would turn them into stdin.
    let batch: Array<Buffer | string> = [];
    const send = (data: Buffer | string): void => void batch.push(data);
    const flush = (): void => {
      if (batch.length === 0 || up.destroyed) return;
      const data = Buffer.concat(batch.map((b) => (typeof b === 'string' ? Buffer.from(b, 'latin1') : b)));
      batch = [];
      if (!up.write(data)) {
        client.pause();
        up.once('drain', () => client.resume());
      }
    };
    const refuse = (status: string, message: string): void => {
      const body = JSON.stringify({ message: `docker-stability proxy: ${message}` });
      client.end(
        `HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
      up.destroy();
      mode = { kind: 'closed' };
    };

    type Mode =
      | { kind: 'head'; pending: Buffer }
      | { kind: 'pass'; remaining: number; then: Next }
      | { kind: 'passChunked'; reader: ChunkedReader; then: Next }
      | {
          kind: 'capture';
          head: Head;
          framing: Framing;
          reader?: ChunkedReader;
          parts: Buffer[];
          size: number;
        }
      | { kind: 'raw' }
      | { kind: 'closed' };
    type Next = 'head' | 'raw';
    let mode: Mode = { kind: 'head', pending: Buffer.alloc(0) };

    /** After a request is forwarded whole: the next request, or raw bytes on a hijacked connection. */
    const next = (then: Next): void => {
      mode = then === 'raw' ? { kind: 'raw' } : { kind: 'head', pending: Buffer.alloc(0) };
    };

    const finishCapture = (m: Extract<Mode, { kind: 'capture' }>): void => {
      const body = Buffer.concat(m.parts);
      if (EXEC_START_PATH.test(m.head.path)) {
        // The daemon hijacks an exec start unless it is detached.
        send(m.head.raw);
        if (m.framing.kind === 'chunked') send(chunkedBody(body));
        else send(body);
        next(hasUpgrade(m.head) || !isDetachedExec(body) ? 'raw' : 'head');
        return;
      }
      const stamped = stampLabels(body, labels);
      send(rebuildHead(m.head, stamped.length));
      send(stamped);
      next(hasUpgrade(m.head) ? 'raw' : 'head');
    };

    /** Consumes as much of `buf` as the current mode takes; returns the rest. */
    const step = (buf: Buffer): Buffer => {
      switch (mode.kind) {
        case 'closed':
          return Buffer.alloc(0);
        case 'raw':
          send(buf);
          return Buffer.alloc(0);
        case 'pass': {
          const n = Math.min(mode.remaining, buf.length);
          if (n > 0) send(buf.subarray(0, n));
          mode.remaining -= n;
          if (mode.remaining === 0) next(mode.then);
          return buf.subarray(n);
        }
        case 'passChunked': {
          const r = mode.reader.feed(buf);
          if (r.error) {
            refuse('400 Bad Request', r.error);
            return Buffer.alloc(0);
          }
          send(buf.subarray(0, r.consumed));
          if (r.done) next(mode.then);
          return buf.subarray(r.consumed);
        }
        case 'capture': {
          let consumed: number;
          if (mode.reader) {
            const r = mode.reader.feed(buf, mode.parts);
            if (r.error) {
              refuse('400 Bad Request', r.error);
              return Buffer.alloc(0);
            }
            consumed = r.consumed;
            mode.size = mode.parts.reduce((s, p) => s + p.length, 0);
            if (mode.size > MAX_CAPTURED_BODY_BYTES) {
              refuse('413 Payload Too Large', 'create body too large');
              return Buffer.alloc(0);
            }
            if (r.done) finishCapture(mode);
          } else {
            const want = (mode.framing as { length: number }).length - mode.size;
            consumed = Math.min(want, buf.length);
            mode.parts.push(buf.subarray(0, consumed));
            mode.size += consumed;
            if (mode.size === (mode.framing as { length: number }).length) finishCapture(mode);
          }
          return buf.subarray(consumed);
        }
        case 'head': {
          const data = mode.pending.length ? Buffer.concat([mode.pending, buf]) : buf;
          const end = data.indexOf('\r\n\r\n');
          if (end < 0) {
            if (data.length > MAX_HEAD_BYTES)
              refuse('431 Request Header Fields Too Large', 'request head too large');
            else mode.pending = data;
            return Buffer.alloc(0);
          }
          const head = parseHead(data.subarray(0, end + 4));
          if (!head) {
            refuse('400 Bad Request', 'malformed request');
            return Buffer.alloc(0);
          }
          const framing = framingOf(head);
          if (!framing) {
            refuse('400 Bad Request', 'malformed Content-Length or Transfer-Encoding');
            return Buffer.alloc(0);
          }
          const rest = data.subarray(end + 4);
          const path = head.path;
          if (head.method === 'POST' && (CREATE_PATH.test(path) || EXEC_START_PATH.test(path))) {
            if (framing.kind === 'length' && framing.length > MAX_CAPTURED_BODY_BYTES) {
              refuse('413 Payload Too Large', 'create body too large');
              return Buffer.alloc(0);
            }
            if (expectsContinue(head)) client.write('HTTP/1.1 100 Continue\r\n\r\n');
            const capture: Extract<Mode, { kind: 'capture' }> = {
              kind: 'capture',
              head,
              framing,
              parts: [],
              size: 0,
              reader: framing.kind === 'chunked' ? new ChunkedReader() : undefined,
            };
            mode = capture;
            if (framing.kind === 'none' || (framing.kind === 'length' && framing.length === 0))
              finishCapture(capture);
            return rest;
          }
          send(head.raw);
          const then: Next =
            hasUpgrade(head) || (head.method === 'POST' && ATTACH_PATH.test(path)) ? 'raw' : 'head';
          if (framing.kind === 'chunked') mode = { kind: 'passChunked', reader: new ChunkedReader(), then };
          else if (framing.kind === 'length' && framing.length > 0)
            mode = { kind: 'pass', remaining: framing.length, then };
          else next(then);
          return rest;
        }
      }
    };

    client.on('data', (chunk: Buffer) => {
      let rest = chunk;
      while (rest.length > 0 && mode.kind !== 'closed') rest = step(rest);
      flush();
    });
    client.on('end', () => {
      if (mode.kind !== 'closed') up.end();
    });
    up.on('end', () => client.end());
  }

  function parseHead(raw: Buffer): Head | undefined {
    const lines = raw.toString('latin1').split('\r\n');
    const m = /^([A-Z]+) (\S+) (HTTP\/1\.[01])$/.exec(lines[0] ?? '');
    if (!m) return undefined;
    const headers: Array<[string, string]> = [];
    for (const line of lines.slice(1)) {
      if (line === '') continue;
      const colon = line.indexOf(':');
      if (colon <= 0) return undefined;
      headers.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
    }
    const target = m[2] as string;
    return {
      method: m[1] as string,
      target,
      path: target.split('?')[0] as string,
      version: m[3] as string,
      headers,
      raw,
    };
  }

  function header(head: Head, name: string): string[] {
    return head.headers.filter(([k]) => k.toLowerCase() === name).map(([, v]) => v);
  }

  /** Chunked wins over Content-Length (RFC 9112 6.3, as Go's server does); differing lengths are refused. */
  function framingOf(head: Head): Framing | undefined {
    const te = header(head, 'transfer-encoding').join(',').toLowerCase();
    if (te) return /(^|,)\s*chunked\s*$/.test(te) ? { kind: 'chunked' } : undefined;
    const lengths = [...new Set(header(head, 'content-length'))];
    if (lengths.length === 0) return { kind: 'none' };
    if (lengths.length > 1 || !/^\d{1,15}$/.test(lengths[0] as string)) return undefined;
    return { kind: 'length', length: Number(lengths[0]) };
  }

  function hasUpgrade(head: Head): boolean {
    return header(head, 'upgrade').length > 0;
  }

  function expectsContinue(head: Head): boolean {
    return header(head, 'expect').some((v) => v.toLowerCase() === '100-continue');
  }

  /** The captured request's head with its body now sent whole: one Content-Length, no Expect. */
  function rebuildHead(head: Head, length: number): string {
    const dropped = new Set(['content-length', 'transfer-encoding', 'expect']);
    const lines = head.headers.filter(([k]) => !dropped.has(k.toLowerCase())).map(([k, v]) => `${k}: ${v}`);
    return `${head.method} ${head.target} ${head.version}\r\n${[...lines, `Content-Length: ${length}`].join('\r\n')}\r\n\r\n`;
  }

  function chunkedBody(body: Buffer): Buffer {
    return body.length
      ? Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')])
      : Buffer.from('0\r\n\r\n');
  }

  function isDetachedExec(body: Buffer): boolean {
    try {
      const v = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      return Object.entries(v).some(([k, x]) => k.toLowerCase() === 'detach' && x === true);
    } catch {
      return false;
    }
  }

  /**
   * The create body with the labels set. The daemon decodes JSON field names case-insensitively
   * and lets a later duplicate win, so every spelling of `Labels` is merged into one, written
   * last, with ours over the client's. A body that is not a JSON object is forwarded as it is:
   * the daemon refuses it and nothing is created.
   */
  function stampLabels(body: Buffer, labels: Record<string, string>): Buffer {
    let value: unknown;
    try {
      value = body.length ? JSON.parse(body.toString('utf8')) : {};
    } catch {
      return body;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return body;
    const out: Record<string, unknown> = {};
    let merged: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (k.toLowerCase() === 'labels') {
        if (v && typeof v === 'object' && !Array.isArray(v))
          merged = { ...merged, ...(v as Record<string, unknown>) };
      } else out[k] = v;
    }
    out.Labels = { ...merged, ...labels };
    return Buffer.from(JSON.stringify(out), 'utf8');
  }

  /**
   * Follows a chunked body (RFC 9112 7.1) across reads: where it ends, and optionally its data.
   * Lines are bounded, so a client cannot make the proxy buffer without limit.
   */
  class ChunkedReader {
    private phase: 'size' | 'data' | 'crlf' | 'trailer' = 'size';
    private remaining = 0;
    private line = '';

    feed(buf: Buffer, data?: Buffer[]): { consumed: number; done: boolean; error?: string } {
      let i = 0;
      while (i < buf.length) {
        if (this.phase === 'data') {
          const n = Math.min(this.remaining, buf.length - i);
          data?.push(buf.subarray(i, i + n));
          i += n;
          this.remaining -= n;
          if (this.remaining === 0) this.phase = 'crlf';
          continue;
        }
        const byte = buf[i++] as number;
        if (byte !== 0x0a) {
          this.line += String.fromCharCode(byte);
          if (this.line.length > MAX_CHUNK_LINE_BYTES)
            return { consumed: i, done: false, error: 'chunk line too long' };
          continue;
        }
        const line = this.line.replace(/\r$/, '');
        this.line = '';
        if (this.phase === 'crlf') {
          if (line !== '') return { consumed: i, done: false, error: 'malformed chunk' };
          this.phase = 'size';
        } else if (this.phase === 'size') {
          const size = /^([0-9a-fA-F]{1,8})(?:;.*)?$/.exec(line.trim());
          if (!size) return { consumed: i, done: false, error: 'malformed chunk size' };
          this.remaining = parseInt(size[1] as string, 16);
          this.phase = this.remaining === 0 ? 'trailer' : 'data';
        } else if (line === '') {
          return { consumed: i, done: true };
        }
      }
      return { consumed: i, done: false };
    }
  }
}
