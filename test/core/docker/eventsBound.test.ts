import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerClient } from '../../../src/core/docker/client';
import { parseHost } from '../../../src/core/docker/endpoint';

describe('docker client: the /events stream is bounded', () => {
  let dir: string;
  let server: Server;
  afterEach(() => {
    server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a daemon that never ends an event line gets the stream closed with a clear error, not an ever-growing buffer', async () => {
    dir = mkdtempSync(join(tmpdir(), 'ds-events-'));
    const sock = join(dir, 'docker.sock');
    let sent = 0;
    server = createServer((req, res) => {
      if (!(req.url ?? '').includes('/events')) return void res.end('{}');
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const chunk = 'x'.repeat(64 * 1024);
      // At most 8 MiB, then stop: the test is bounded whatever the client does.
      const push = (): void => {
        while (sent < 8 * 1024 * 1024 && !res.destroyed) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', push);
        }
        res.end();
      };
      push();
    });
    await new Promise<void>((r) => server.listen(sock, r));
    const client = new DockerClient(parseHost(`unix://${sock}`, 'test'), { timeoutMs: 5_000 });
    const ended = await new Promise<Error | undefined>((resolve) => {
      void client.events({}, () => undefined, resolve);
    });
    assert.match(ended?.message ?? '', /event line longer than 1048576 bytes; events stream closed/);
  });
});
