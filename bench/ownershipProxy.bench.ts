// Ownership proxy benchmark: what a run's own DOCKER_HOST costs against the real socket, which
// is what a user's tools would otherwise talk to. API round trips (ping), container create +
// remove (the path whose body the proxy rewrites), the docker CLI (`docker ps`, `docker run`
// attached) and a bulk log stream. Prints a Markdown section for BENCHMARKS.md ("## Ownership proxy").
//   node out/bench/ownershipProxy.bench.js
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import Docker from 'dockerode';
import { DockerClient } from '../src/core/docker/client';
import { resolveEndpoint } from '../src/core/docker/endpoint';
import { startOwnershipProxy } from '../src/core/docker/ownershipProxy';

const IMAGE = process.env.DOCKER_STABILITY_TEST_IMAGE ?? 'docker-stability-test/busybox:1';
const LABEL = 'docker-stability.test-fixture';
const DOCKER = '/usr/local/bin/docker';
const LOG_BYTES = 20 * 1024 * 1024;

function median(ms: number[]): number {
  const s = [...ms].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/** Milliseconds one call takes. */
async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

function cli(args: string[], dockerHost: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = spawn(DOCKER, args, {
      stdio: 'ignore',
      env: { ...process.env, DOCKER_HOST: dockerHost, DOCKER_CONTEXT: '' },
    });
    const timer = setTimeout(() => c.kill('SIGKILL'), 60_000);
    c.once('error', reject);
    c.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`docker ${args.join(' ')} exited ${code}`));
    });
  });
}

async function drain(stream: NodeJS.ReadableStream): Promise<number> {
  let n = 0;
  for await (const chunk of stream) n += (chunk as Buffer).length;
  return n;
}

async function main(): Promise<void> {
  const fixture = `bench-proxy-${randomBytes(3).toString('hex')}`;
  const real = new DockerClient(resolveEndpoint(), { timeoutMs: 60_000 });
  const proxy = await startOwnershipProxy({ endpoint: real.endpoint, runId: fixture });
  const direct = real.api;
  const via = new Docker({ socketPath: proxy.socketPath });
  const realHost = real.endpoint.host;
  const rows: Array<[string, number, number]> = [];
  const both = async (what: string, n: number, fn: (api: Docker, host: string) => Promise<unknown>) => {
    // Interleaved rounds, so load changes on the shared machine hit both sides alike.
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < n; i++) {
      a.push(await timed(() => fn(direct, realHost)));
      b.push(await timed(() => fn(via, proxy.dockerHost)));
    }
    rows.push([what, median(a), median(b)]);
  };
  try {
    await both('API ping (`GET /_ping`), 200x', 200, (api) => api.ping());
    await both('container create + remove (labels stamped), 30x', 30, async (api) => {
      const c = await api.createContainer({
        Image: IMAGE,
        Cmd: ['true'],
        Labels: { [LABEL]: fixture },
        HostConfig: { NetworkMode: 'none' },
      });
      await c.remove();
    });
    await both('`docker ps -q` (CLI), 15x', 15, (_api, host) => cli(['ps', '-q'], host));
    await both('`docker run --rm` attached (CLI), 8x', 8, (_api, host) =>
      cli(['run', '--rm', '--network', 'none', '--label', `${LABEL}=${fixture}`, IMAGE, 'true'], host),
    );
    const logger = await direct.createContainer({
      Image: IMAGE,
      Cmd: ['sh', '-c', `head -c ${LOG_BYTES} /dev/zero | tr '\\0' x | fold -w 1000`],
      Labels: { [LABEL]: fixture },
      HostConfig: { NetworkMode: 'none' },
    });
    await logger.start();
    await logger.wait();
    let bytes = 0;
    await both(`logs of ${LOG_BYTES / 1024 / 1024} MiB (stream), 5x`, 5, async (api) => {
      bytes = await drain(
        (await api
          .getContainer(logger.id)
          .logs({ stdout: true, follow: false })) as unknown as NodeJS.ReadableStream,
      );
    });
    await logger.remove();
    if (bytes < LOG_BYTES) throw new Error(`log stream delivered ${bytes} bytes`);
  } finally {
    await proxy.close();
    for (const c of await direct.listContainers({ all: true, filters: { label: [`${LABEL}=${fixture}`] } }))
      await direct.getContainer(c.Id).remove({ force: true });
  }
  const fmt = (ms: number): string => (ms < 10 ? ms.toFixed(2) : ms.toFixed(0));
  console.log('## Ownership proxy');
  console.log('');
  console.log(
    `${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores (${cpus()[0]?.model ?? 'cpu'}), load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(
        ' ',
      )} (a machine shared with other test suites), Docker Engine on ${realHost}. \`node out/bench/ownershipProxy.bench.js\`.`,
  );
  console.log(
    "A run's own DOCKER_HOST against the real socket the same tools would otherwise use; medians of interleaved rounds.",
  );
  console.log('');
  console.log("| Operation | Real socket (ms) | Run's DOCKER_HOST (ms) | Ratio |");
  console.log('| --- | ---: | ---: | ---: |');
  for (const [what, a, b] of rows) console.log(`| ${what} | ${fmt(a)} | ${fmt(b)} | ${(b / a).toFixed(2)} |`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
