import { promises as fsp } from 'node:fs';
import { dirname, join } from 'node:path';
import { LockManager, type LockHandle } from '../lock';
import type { Logger } from '../log';
import { endpointId, stateDir } from '../paths';
import { readFileIfExists, writeFileAtomic } from '../util/fs';
import type { ListenAddress } from './settings';

/**
 * One agent per endpoint per host. Its presence is a lock (`<stateDir>/agents/agent-<id>`): the
 * lock's heartbeat and the holder's pid say whether it is alive, so a killed agent is never
 * reported as running; a sibling info file says what it serves.
 */
export interface AgentInfo {
  endpoint: string;
  pid: number;
  host: string;
  startedAt: string;
  version: string;
  /** `http://HOST:PORT/metrics` when the agent serves metrics. */
  metricsUrl?: string;
}

export interface AgentPresence {
  running: boolean;
  endpoint: string;
  /** Running: since when; else absent. */
  since?: string;
  pid?: number;
  host?: string;
  metricsUrl?: string;
  /** Not running, but a lock was left: why it counts as dead (a killed agent). */
  staleReason?: string;
}

export function agentLockDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(stateDir(env), 'agents');
}

export function agentLockName(endpointHost: string): string {
  return `agent-${endpointId(endpointHost)}`;
}

/** The info file and the cleanup journal live beside the locks, not inside the lock folder. */
export function agentFile(
  endpointHost: string,
  suffix: 'info' | 'cleanup',
  env: NodeJS.ProcessEnv = process.env,
): string {
  return join(stateDir(env), 'agent', `${endpointId(endpointHost)}.${suffix}.json`);
}

export function metricsUrl(a: ListenAddress): string {
  const host = a.host.includes(':') ? `[${a.host}]` : a.host;
  return `http://${host}:${a.port}/metrics`;
}

/** Whether an agent runs for this endpoint on this host (or shares this state folder). */
export async function readAgentPresence(
  endpointHost: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<AgentPresence> {
  const [status] = await new LockManager({ dir: agentLockDir(env) }).status(agentLockName(endpointHost));
  const base: AgentPresence = { running: false, endpoint: endpointHost };
  if (!status?.held) return base;
  if (status.stale) return { ...base, staleReason: status.staleReason };
  const info = await readInfo(endpointHost, env);
  const h = status.holder;
  return {
    running: true,
    endpoint: endpointHost,
    since: h?.acquiredAt,
    pid: h?.pid,
    host: h?.host,
    // an info file of an earlier agent does not describe this one
    ...(info && info.pid === h?.pid && info.metricsUrl ? { metricsUrl: info.metricsUrl } : {}),
  };
}

async function readInfo(endpointHost: string, env: NodeJS.ProcessEnv): Promise<AgentInfo | undefined> {
  try {
    const text = await readFileIfExists(agentFile(endpointHost, 'info', env));
    return text ? (JSON.parse(text) as AgentInfo) : undefined;
  } catch {
    return undefined;
  }
}

export class AgentAlreadyRunningError extends Error {
  constructor(readonly presence: AgentPresence) {
    super(
      `an agent already runs for ${presence.endpoint} (pid ${presence.pid} on ${presence.host}, since ${presence.since})`,
    );
    this.name = 'AgentAlreadyRunningError';
  }
}

/** Takes the endpoint's agent lock (at once or not at all) and writes the info file. */
export async function claimAgent(
  info: AgentInfo,
  opts: { env?: NodeJS.ProcessEnv; logger?: Logger; onLost: (err: Error) => void },
): Promise<LockHandle> {
  const env = opts.env ?? process.env;
  const manager = new LockManager({ dir: agentLockDir(env), logger: opts.logger });
  let handle: LockHandle;
  try {
    handle = await manager.acquire(agentLockName(info.endpoint), {
      timeoutMs: 0,
      why: `docker-stability agent for ${info.endpoint}`,
      onCompromised: opts.onLost,
    });
  } catch (err) {
    const presence = await readAgentPresence(info.endpoint, env);
    if (presence.running) throw new AgentAlreadyRunningError(presence);
    throw err;
  }
  await writeFileAtomicMkdir(agentFile(info.endpoint, 'info', env), JSON.stringify(info, null, 2) + '\n');
  return handle;
}

export async function writeFileAtomicMkdir(file: string, text: string): Promise<void> {
  await fsp.mkdir(dirname(file), { recursive: true });
  await writeFileAtomic(file, text);
}
