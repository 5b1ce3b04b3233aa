/**
 * How a run's mode is decided, for every caller alike (the CLI, the library, framework hooks):
 * the caller's own choice, else the configured mode of its category, else exclusive; and shared
 * only where the compose files of its folder have no fixed container name or host port (see
 * mode.ts), unless the caller itself forces it. A configured mode never overrides the files.
 */
import type { LockMode } from '../lock';

export interface RunModeRequest {
  category: string;
  /** The caller's own choice for this run; wins over `modes`. */
  mode?: LockMode;
  /** Modes per category from a configuration (see `validateRunModes`). */
  modes?: Readonly<Record<string, LockMode>>;
  /**
   * Shared even where the compose files forbid it, with a warning. Honoured only when the
   * caller itself asked for shared (`mode`), never for a configured mode.
   */
  forceShared?: boolean;
  /** The folder whose compose files are judged (default: the working folder). */
  dir?: string;
  /** The variables compose would interpolate with (default: this process's). */
  env?: NodeJS.ProcessEnv;
}

export interface RunModeDecision {
  mode: LockMode;
  /** What was asked, and by whom: `default` when neither the caller nor the configuration said. */
  asked: { mode: LockMode; by: 'caller' | 'config' | 'default' };
  /** Shared was asked, but the compose files make the run exclusive. */
  downgraded: boolean;
  /** Shared although the compose files forbid it (`forceShared`). */
  forced: boolean;
  /** When shared was asked: the compose files' verdict in one line (why it is safe, or the first cause). */
  reason?: string;
  /** When shared was asked: the line to show before the run starts. */
  note?: string;
  /** The compose files judged (only when shared was asked). */
  files?: string[];
}

/**
 * Checks a per-category mode map from a configuration and returns it typed; throws an Error
 * naming the first bad value, so that a typo never silently makes a run exclusive.
 */
export function validateRunModes(raw: unknown, where = 'modes'): Record<string, LockMode> {
  if (raw === undefined) return {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new Error(`${where} must map categories to "shared" or "exclusive" (got ${JSON.stringify(raw)})`);
  const out: Record<string, LockMode> = {};
  for (const [category, mode] of Object.entries(raw as Record<string, unknown>)) {
    if (mode !== 'shared' && mode !== 'exclusive')
      throw new Error(`${where}.${category} must be "shared" or "exclusive" (got ${JSON.stringify(mode)})`);
    out[category] = mode;
  }
  return out;
}

/**
 * Decides a run's mode. Exclusive, asked or by default, reads no file. Shared is judged on the
 * compose files compose would load in `dir`; the compose rules are loaded only then, so an
 * exclusive run never pays for the YAML parser.
 */
export async function decideRunMode(req: RunModeRequest): Promise<RunModeDecision> {
  const configured = Object.prototype.hasOwnProperty.call(req.modes ?? {}, req.category)
    ? req.modes?.[req.category]
    : undefined;
  const asked: RunModeDecision['asked'] =
    req.mode !== undefined
      ? { mode: req.mode, by: 'caller' }
      : configured !== undefined
        ? { mode: configured, by: 'config' }
        : { mode: 'exclusive', by: 'default' };
  if (asked.mode === 'exclusive') return { mode: 'exclusive', asked, downgraded: false, forced: false };
  const { judgeRunMode } = await import('./mode.js');
  const judged = judgeRunMode(req.dir ?? process.cwd(), req.env ?? process.env);
  const base = { asked, reason: judged.reason, files: judged.files };
  const byConfig = asked.by === 'config' ? ` (configured for "${req.category}")` : '';
  if (judged.mode === 'shared')
    return {
      ...base,
      mode: 'shared',
      downgraded: false,
      forced: false,
      note: `mode shared${byConfig}: ${judged.reason}`,
    };
  if (asked.by === 'caller' && req.forceShared)
    return {
      ...base,
      mode: 'shared',
      downgraded: false,
      forced: true,
      note: `warning: mode shared (forced) although ${judged.reason}`,
    };
  return {
    ...base,
    mode: 'exclusive',
    downgraded: true,
    forced: false,
    note: `mode exclusive: shared asked${byConfig}, but ${judged.reason}`,
  };
}
