import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import {
  checkCompose,
  overridePath,
  planApply,
  servicePatch,
  writeApply,
} from '../../../src/core/compose/index';
import { getPath } from '../../../src/core/compose/model';

const hc = (image: string, extra: Record<string, unknown> = {}): unknown =>
  getPath(servicePatch({ image, ...extra }, 'test'), ['healthcheck', 'test']);
const memory = (svc: Record<string, unknown>): unknown =>
  getPath(servicePatch(svc, 'dev'), ['deploy', 'resources', 'limits', 'memory']);
const cpus = (svc: Record<string, unknown>): unknown => {
  const p = servicePatch(svc, 'dev');
  return getPath(p, ['deploy', 'resources', 'limits', 'cpus']) ?? p.cpus;
};

describe('compose apply on real stacks', () => {
  describe('image identity is the repository, not a substring', () => {
    it('PostgREST, postgres-exporter and a PostgreSQL backup image get no pg_isready and keep their own program', () => {
      for (const image of [
        'postgrest/postgrest:v12.0.2',
        'prometheuscommunity/postgres-exporter:v0.15.0',
        'prodrigestivill/postgres-backup-local:16',
        'quay.io/prometheuscommunity/postgres-exporter',
      ]) {
        const patch = servicePatch({ image }, 'test');
        assert.equal(patch.healthcheck, undefined, image);
        assert.equal(patch.command, undefined, image);
      }
    });

    it('official, registry-qualified, postgis and bitnami PostgreSQL get pg_isready; only images with the official entrypoint get the durable command', () => {
      for (const image of [
        'postgres:16',
        'docker.io/library/postgres:16-alpine',
        'registry.example.com:5000/postgres:15',
        'postgis/postgis:16-3.4',
        'bitnami/postgresql:16',
      ]) {
        assert.deepEqual(hc(image), ['CMD', 'pg_isready', '-h', '127.0.0.1'], image);
      }
      assert.ok(servicePatch({ image: 'postgis/postgis:16-3.4' }, 'test').command);
      assert.equal(
        servicePatch({ image: 'bitnami/postgresql:16' }, 'test').command,
        undefined,
        "bitnami's entrypoint does not take `postgres -c`",
      );
    });

    it('tools named after a database get no database probe', () => {
      for (const image of [
        'rediscommander/redis-commander',
        'mongo-express:1',
        'prom/mysqld-exporter',
        'oliver006/redis_exporter',
        'bitnami/redis:7',
        'myorg/postgres-tools',
        'kbudde/rabbitmq-exporter',
      ]) {
        assert.equal(hc(image), undefined, image);
      }
    });
  });

  describe('probes that exist in the image and use its port', () => {
    it('mongo falls back to the legacy shell when mongosh is missing (old tags)', () => {
      const test = hc('mongo:4.4') as string[];
      assert.equal(test[0], 'CMD-SHELL');
      assert.match(test[1] as string, /command -v mongosh .*then mongosh .*else mongo --quiet/);
    });

    it('mariadb uses healthcheck.sh only where it exists (images from 2022 on)', () => {
      const test = hc('mariadb:10.5') as string[];
      assert.equal(test[0], 'CMD-SHELL');
      assert.match(test[1] as string, /command -v healthcheck\.sh .*else mysqladmin ping/);
    });

    it("redis is probed on the service's port, and not at all when a config file or password decides", () => {
      assert.deepEqual(hc('redis:7', { command: 'redis-server --port 6380' }), [
        'CMD',
        'redis-cli',
        '-p',
        '6380',
        'ping',
      ]);
      assert.deepEqual(hc('redis:7', { command: ['redis-server', '--port', '${REDIS_PORT:-6390}'] }), [
        'CMD',
        'redis-cli',
        '-p',
        '6390',
        'ping',
      ]);
      assert.equal(hc('redis:7', { command: 'redis-server /usr/local/etc/redis/redis.conf' }), undefined);
      assert.equal(hc('redis:7', { command: 'redis-server --requirepass secret' }), undefined);
      assert.equal(hc('redis:7', { command: 'redis-server --port ${PORT}' }), undefined);
    });

    it('postgres on another port is probed there', () => {
      assert.deepEqual(hc('postgres:16', { command: 'postgres -p 5433' }), [
        'CMD',
        'pg_isready',
        '-h',
        '127.0.0.1',
        '-p',
        '5433',
      ]);
    });
  });

  describe("limits fit what the service's own settings demand", () => {
    it('a JVM heap gets twice its size (JAVA_OPTS, ES_JAVA_OPTS lists, KAFKA_HEAP_OPTS, a command)', () => {
      assert.equal(memory({ image: 'acme/api', environment: { JAVA_OPTS: '-Xms256m -Xmx1g' } }), '2G');
      assert.equal(
        memory({
          image: 'elasticsearch:8.13.0',
          environment: ['discovery.type=single-node', 'ES_JAVA_OPTS=-Xms2g -Xmx2g'],
        }),
        '4G',
      );
      assert.equal(
        memory({
          image: 'confluentinc/cp-kafka:7.6.0',
          environment: { KAFKA_HEAP_OPTS: '-Xmx${KAFKA_HEAP:-1536m}' },
        }),
        '3G',
      );
      assert.equal(
        memory({ image: 'eclipse-temurin:21', command: ['java', '-Xmx768m', '-jar', 'app.jar'] }),
        '1536M',
      );
      assert.equal(
        memory({ image: 'acme/api', environment: { JAVA_OPTS: '-Xmx128m' } }),
        '512M',
        'never below the standard',
      );
    });

    it('PostgreSQL shared_buffers and InnoDB buffer pools size the limit', () => {
      assert.equal(memory({ image: 'postgres:16', command: 'postgres -c shared_buffers=1GB' }), '4G');
      assert.equal(memory({ image: 'mysql:8', command: ['--innodb-buffer-pool-size=2G'] }), '4G');
      assert.equal(memory({ image: 'mariadb:11', command: '--innodb_buffer_pool_size=1G' }), '2G');
    });

    it('known-heavy images and JVMs that size their heap from the limit get no memory limit, and the plan says why', async () => {
      assert.equal(memory({ image: 'docker.elastic.co/elasticsearch/elasticsearch:8.13.0' }), undefined);
      assert.equal(memory({ image: 'sonarqube:community' }), undefined);
      assert.equal(memory({ image: 'mcr.microsoft.com/mssql/server:2022-latest' }), undefined);
      assert.equal(
        memory({ image: 'acme/api', environment: { JAVA_TOOL_OPTIONS: '-XX:MaxRAMPercentage=75' } }),
        undefined,
      );
      assert.equal(cpus({ image: 'sonarqube:community' }), '0.25', 'the CPU limit is still added');
      const dir = mkdtempSync(join(tmpdir(), 'dstab-compose-heavy-'));
      try {
        writeFileSync(join(dir, 'compose.yaml'), 'services:\n  search:\n    image: elasticsearch:8.13.0\n');
        const plan = await planApply(join(dir, 'compose.yaml'));
        assert.match(
          plan.changes.join('\n'),
          /search: .*no memory limit added: elasticsearch is known to need more/,
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('cpu_quota, cpu_period and cpuset are CPU limits: no cpus next to them (the daemon refuses both)', () => {
      assert.equal(cpus({ image: 'x', cpu_quota: 50000 }), undefined);
      assert.equal(cpus({ image: 'x', cpu_period: 100000, cpu_quota: 50000 }), undefined);
      assert.equal(cpus({ image: 'x', cpuset: '0' }), undefined);
    });
  });

  describe("compose's file loading is kept", () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'dstab-compose-files-'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));
    const useLine = (text: string): string => /^# Use: (.*?) {3}\(or/m.exec(text)?.[1] ?? '';

    it('a default-named file: the override file beside it is loaded before ours, and what it sets is not added again', async () => {
      writeFileSync(join(dir, 'docker-compose.yml'), 'services:\n  app:\n    image: acme/app\n');
      writeFileSync(
        join(dir, 'docker-compose.override.yml'),
        'services:\n  app:\n    mem_limit: 1g\n    environment: {FROM_OVERRIDE: "1"}\n',
      );
      const plan = await planApply(join(dir, 'docker-compose.yml'), { env: {} });
      assert.deepEqual(plan.files, [
        join(dir, 'docker-compose.yml'),
        join(dir, 'docker-compose.override.yml'),
        join(dir, 'docker-compose.stability.yml'),
      ]);
      assert.equal(
        useLine(plan.after),
        'docker-compose -f docker-compose.yml -f docker-compose.override.yml -f docker-compose.stability.yml up -d',
      );
      const app = (parse(plan.after) as { services: { app: Record<string, unknown> } }).services.app;
      assert.equal(
        app.deploy,
        undefined,
        'mem_limit set in the override: no deploy.resources (v1 would drop mem_limit)',
      );
      assert.equal(app.mem_limit, undefined);
      assert.equal(app.cpus, '0.25', 'the legacy style of the merged service');
    });

    it('COMPOSE_FILE (with COMPOSE_PATH_SEPARATOR) and COMPOSE_PROFILES, from the environment or .env, in order', async () => {
      writeFileSync(join(dir, 'base.yml'), 'services:\n  app:\n    image: acme/app\n');
      writeFileSync(join(dir, 'extra.yml'), 'services:\n  app:\n    healthcheck: {test: ["CMD", "true"]}\n');
      const plan = await planApply(join(dir, 'base.yml'), {
        env: {
          COMPOSE_FILE: 'base.yml;extra.yml',
          COMPOSE_PATH_SEPARATOR: ';',
          COMPOSE_PROFILES: 'debug,tools',
        },
      });
      assert.equal(
        useLine(plan.after),
        'docker-compose -f base.yml -f extra.yml -f base.stability.yml --profile debug --profile tools up -d',
      );
      assert.deepEqual(plan.profiles, ['debug', 'tools']);
      const app = (parse(plan.after) as { services: { app: Record<string, unknown> } }).services.app;
      assert.deepEqual(
        app.healthcheck,
        { interval: '10s', timeout: '5s', retries: 5, start_period: '30s' },
        'the probe from extra.yml is kept, only timings added',
      );
      writeFileSync(join(dir, '.env'), '# project settings\nCOMPOSE_FILE=base.yml:extra.yml\n');
      const fromDotEnv = await planApply(join(dir, 'base.yml'), { env: {} });
      assert.deepEqual(fromDotEnv.files, [
        join(dir, 'base.yml'),
        join(dir, 'extra.yml'),
        join(dir, 'base.stability.yml'),
      ]);
    });
  });

  describe('apply writes only where it means to', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'dstab-compose-links-'));
      writeFileSync(join(dir, 'compose.yaml'), 'services:\n  app:\n    image: acme/app\n');
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('a symbolic link at the override path is refused, and its target is untouched', async () => {
      const victim = join(dir, 'victim.txt');
      writeFileSync(victim, 'precious\n');
      symlinkSync(victim, overridePath(join(dir, 'compose.yaml')));
      await assert.rejects(
        planApply(join(dir, 'compose.yaml')),
        /symbolic link: apply never writes through it/,
      );
      assert.equal(readFileSync(victim, 'utf8'), 'precious\n');
    });

    it('a symbolic link at the backup path is refused before anything is written', async () => {
      const file = join(dir, 'compose.yaml');
      writeFileSync(overridePath(file), 'services: {app: {init: true}}\n');
      const victim = join(dir, 'victim.txt');
      writeFileSync(victim, 'precious\n');
      symlinkSync(victim, `${overridePath(file)}.bak`);
      await assert.rejects(
        writeApply(await planApply(file), { validate: false }),
        /\.bak is a symbolic link/,
      );
      assert.equal(readFileSync(victim, 'utf8'), 'precious\n');
      assert.equal(readFileSync(overridePath(file), 'utf8'), 'services: {app: {init: true}}\n');
    });

    it('a newline in the file name cannot inject YAML into the generated header', async () => {
      const file = join(dir, 'x\nservices:\n  evil: {image: evil}\n#.yml');
      writeFileSync(file, 'services:\n  app:\n    image: acme/app\n');
      const plan = await planApply(file);
      assert.deepEqual(Object.keys((parse(plan.after) as { services: object }).services), ['app']);
      for (const line of plan.after.split('\n').slice(0, 3)) assert.match(line, /^# /);
    });

    it('an extends file that is a FIFO or a link to /dev/zero is refused without hanging', async function () {
      this.timeout(10_000);
      execFileSync('mkfifo', [join(dir, 'fifo.yml')]);
      symlinkSync('/dev/zero', join(dir, 'zero.yml'));
      const file = join(dir, 'compose.yaml');
      writeFileSync(
        file,
        'services:\n  a:\n    extends: {file: fifo.yml, service: x}\n    image: acme/a\n  b:\n    extends: {file: zero.yml, service: x}\n    image: acme/b\n',
      );
      const plan = await planApply(file);
      assert.match(plan.changes.join('\n'), /^a: adds /m);
      const findings = checkCompose(readFileSync(file, 'utf8'), file);
      assert.ok(Array.isArray(findings));
    });

    it('services: 42 and an empty services mapping are errors, not "nothing to change"', async () => {
      writeFileSync(join(dir, 'a.yml'), 'services: 42\n');
      writeFileSync(join(dir, 'b.yml'), 'services: {}\nvolumes: {data: {}}\n');
      await assert.rejects(planApply(join(dir, 'a.yml')), /`services` is not a mapping/);
      await assert.rejects(planApply(join(dir, 'b.yml')), /`services` is empty/);
    });

    it('a file in a test folder is a test file, docker-compose.latest.yml is not', async () => {
      mkdirSync(join(dir, 'e2e'));
      writeFileSync(join(dir, 'e2e', 'compose.yaml'), 'services:\n  app:\n    image: acme/app\n');
      writeFileSync(join(dir, 'docker-compose.latest.yml'), 'services:\n  app:\n    image: acme/app\n');
      assert.equal((await planApply(join(dir, 'e2e', 'compose.yaml'))).variant, 'test');
      assert.equal((await planApply(join(dir, 'docker-compose.latest.yml'))).variant, 'dev');
    });
  });
});
