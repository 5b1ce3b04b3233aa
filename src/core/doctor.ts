import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { planCleanup, type CleanupOptions } from './cleanup';
import { checkCompose, detectComposeTool, isOverrideFile } from './compose';
import type { DockerClient } from './docker/client';
import { DockerUnreachableError } from './docker/client';
import { LockManager } from './lock';
import { levelIndex, type Level } from './levels';
import { ResourceMonitor } from './monitor/monitor';
import type { MonitorSettings } from './monitor/settings';
import { formatDuration } from './util/duration';
import { errorMessage } from '../shared/errors';

export type CheckStatus = 'pass' | 'warn' | 'fail';

/**
 * What to do about a warn or fail: an action id with its parameters. The adapters choose the
 * words: the CLI prints a command line, the extension offers a button running its command.
 */
export type DoctorRemedy =
  /** The daemon does not answer: start it, or point the endpoint at one that runs. */
  | { action: 'start-daemon'; params: { endpoint: string } }
  | { action: 'upgrade-engine'; params: { minimumApiVersion: string } }
  | { action: 'install-compose'; params: Record<string, never> }
  /** A workspace compose file has findings: check it, then apply the base config. */
  | { action: 'fix-compose'; params: { file: string } }
  /** A stale lock: force-release it (only if still stale), or let the next acquirer take it over. */
  | { action: 'force-release-lock'; params: { lock: string; staleOnly: true } }
  /** A setting to change; `lockFolder`: the folder for environment locks is not usable. */
  | { action: 'set-setting'; params: { setting: 'lockFolder'; current: string } }
  /** Orphans to remove (`dryRunFirst`: look at the plan first), or a level to bring down. */
  | { action: 'clean-up'; params: { dryRunFirst: boolean } }
  /** A high level: clean up, then stop what is not needed (the status shows the heaviest). */
  | { action: 'reduce-load'; params: { level: Level } };

export type DoctorAction = DoctorRemedy['action'];

export interface DoctorCheck {
  name: string;
  status: CheckStatus;
  detail: string;
  /** What to do about a warn or fail. */
  remedy?: DoctorRemedy;
}

export interface DoctorOptions {
  client: DockerClient;
  lockDir: string;
  /** Folders whose compose files are checked (top level and one level down). */
  workspaceDirs?: string[];
  monitor?: Partial<MonitorSettings>;
  cleanup?: Pick<CleanupOptions, 'testProjectPatterns' | 'protectLabel' | 'olderThanMs'>;
}

const COMPOSE_NAME = /^(docker-)?compose([.-][\w.-]+)?\.ya?ml$/i;

/** Compose files at the top of each folder and one level down (no deep walk: node_modules). */
export async function findComposeFiles(dirs: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const dir of dirs) {
    const top = await fsp.readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of top) {
      if (e.isFile() && COMPOSE_NAME.test(e.name)) out.push(join(dir, e.name));
      else if (e.isDirectory() && !e.name.startsWith('.') && e.name !== 'node_modules') {
        const sub = await fsp.readdir(join(dir, e.name), { withFileTypes: true }).catch(() => []);
        for (const f of sub) if (f.isFile() && COMPOSE_NAME.test(f.name)) out.push(join(dir, e.name, f.name));
      }
    }
  }
  return out.filter((f) => !isOverrideFile(f)).sort();
}

/**
 * Checks the whole setup in one go, each line pass / warn / fail with its remedy: the endpoint
 * and whether it answers, engine and API version, the compose tool, the workspace's compose
 * files, the lock folder and its locks, orphans, and the current level. Never throws.
 */
export async function runDoctor(opts: DoctorOptions): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const { client } = opts;
  const ep = client.endpoint;

  let reachable = false;
  try {
    await client.ping();
    reachable = true;
    checks.push({ name: 'endpoint', status: 'pass', detail: `${ep.host} (from ${ep.source}) answers` });
  } catch (err) {
    const reason = err instanceof DockerUnreachableError ? err.reason : errorMessage(err);
    checks.push({
      name: 'endpoint',
      status: 'fail',
      detail: `Docker is not reachable at ${ep.host} (from ${ep.source}): ${reason}`,
      remedy: { action: 'start-daemon', params: { endpoint: ep.host } },
    });
  }

  if (reachable) {
    try {
      const v = await client.version();
      const api = Number(v.ApiVersion);
      checks.push(
        api >= 1.41
          ? { name: 'engine', status: 'pass', detail: `Docker Engine ${v.Version}, API ${v.ApiVersion}` }
          : {
              name: 'engine',
              status: 'warn',
              detail: `Docker Engine ${v.Version}, API ${v.ApiVersion}: one-shot stats need API 1.41, sampling is slower`,
              remedy: { action: 'upgrade-engine', params: { minimumApiVersion: '1.41' } },
            },
      );
    } catch (err) {
      checks.push({
        name: 'engine',
        status: 'fail',
        detail: `version query failed: ${errorMessage(err)}`,
      });
    }
  }

  const tool = await detectComposeTool().catch(() => undefined);
  checks.push(
    tool
      ? {
          name: 'compose tool',
          status: 'pass',
          detail: `${tool.command.join(' ')} ${tool.version} (${tool.kind})`,
        }
      : {
          name: 'compose tool',
          status: 'warn',
          detail: 'neither `docker compose` (v2) nor `docker-compose` (v1) was found',
          remedy: { action: 'install-compose', params: {} },
        },
  );

  const files = await findComposeFiles(opts.workspaceDirs ?? []);
  for (const file of files) {
    const text = await fsp.readFile(file, 'utf8').catch((err: Error) => err);
    if (text instanceof Error) {
      checks.push({ name: `compose ${file}`, status: 'warn', detail: `cannot read: ${text.message}` });
      continue;
    }
    const findings = checkCompose(text, file);
    const errors = findings.filter((f) => f.severity === 'error').length;
    const warnings = findings.filter((f) => f.severity === 'warning').length;
    const rules = [...new Set(findings.filter((f) => f.severity !== 'info').map((f) => f.rule))].join(', ');
    checks.push(
      errors + warnings === 0
        ? {
            name: `compose ${file}`,
            status: 'pass',
            detail: `no findings${findings.length ? ` (${findings.length} info)` : ''}`,
          }
        : {
            name: `compose ${file}`,
            status: errors ? 'fail' : 'warn',
            detail: `${errors} error(s), ${warnings} warning(s): ${rules}`,
            remedy: { action: 'fix-compose', params: { file } },
          },
    );
  }

  try {
    await fsp.mkdir(opts.lockDir, { recursive: true });
    // A random name, created exclusively: a planted file or symlink is never written through.
    const probe = join(opts.lockDir, `.doctor-${randomBytes(8).toString('hex')}`);
    await fsp.writeFile(probe, 'ok', { flag: 'wx' });
    await fsp.rm(probe, { force: true });
    checks.push({ name: 'lock folder', status: 'pass', detail: `${opts.lockDir} is writable` });
    const locks = await new LockManager({ dir: opts.lockDir }).status();
    const stale = locks.filter((l) => l.stale);
    const held = locks.filter((l) => l.held && !l.stale);
    checks.push(
      stale.length
        ? {
            name: 'locks',
            status: 'warn',
            detail: `stale: ${stale.map((l) => `${l.name}${l.holder ? ` (${l.holder.user}@${l.holder.host} pid ${l.holder.pid})` : ''}`).join(', ')}`,
            remedy: { action: 'force-release-lock', params: { lock: stale[0]?.name ?? '', staleOnly: true } },
          }
        : {
            name: 'locks',
            status: 'pass',
            detail: held.length
              ? `held: ${held.map((l) => `${l.name} by ${l.holder?.user ?? '?'} for ${formatDuration(l.ageMs ?? 0)}`).join(', ')}`
              : 'none held',
          },
    );
  } catch (err) {
    checks.push({
      name: 'lock folder',
      status: 'fail',
      detail: `${opts.lockDir} is not usable: ${errorMessage(err)}`,
      remedy: { action: 'set-setting', params: { setting: 'lockFolder', current: opts.lockDir } },
    });
  }

  if (reachable) {
    try {
      const plan = await planCleanup(client, opts.cleanup ?? {});
      const byType = (t: string): number => plan.remove.filter((e) => e.type === t).length;
      checks.push(
        plan.remove.length === 0
          ? { name: 'orphans', status: 'pass', detail: 'no orphaned test resources' }
          : {
              name: 'orphans',
              status: 'warn',
              detail: `${byType('container')} container(s), ${byType('network')} network(s), ${byType('volume')} volume(s) left by test runs`,
              remedy: { action: 'clean-up', params: { dryRunFirst: true } },
            },
      );
    } catch (err) {
      checks.push({
        name: 'orphans',
        status: 'warn',
        detail: `could not plan a cleanup: ${errorMessage(err)}`,
      });
    }

    const monitor = new ResourceMonitor(client, opts.monitor ?? {});
    try {
      const s = await monitor.sampleNow();
      const worst = Object.entries(s.resources)
        .map(([k, r]) => `${k} ${r.percent}%`)
        .join(', ');
      const idx = levelIndex(s.level);
      checks.push({
        name: 'level',
        status: idx >= 3 ? 'fail' : idx === 2 ? 'warn' : 'pass',
        detail: `${s.level}: ${worst}`,
        ...(idx >= 2 ? { remedy: { action: 'reduce-load', params: { level: s.level } } } : {}),
      });
    } catch (err) {
      checks.push({ name: 'level', status: 'fail', detail: `sampling failed: ${errorMessage(err)}` });
    } finally {
      await monitor.dispose();
    }
  }
  return checks;
}
