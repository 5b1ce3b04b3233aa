import { DEFAULT_LOCK_NAME } from '../lock';
import {
  beginTestRun,
  type ActiveTestRun,
  type RunOutcome,
  type RunReport,
  type TestEnvironment,
  type TestEnvironmentOptions,
} from './testRun';

/**
 * Global setup/teardown for test frameworks. A framework calls setup and teardown as two
 * separate functions (jest even from two separate modules), yet the environment lock and the
 * sampling must span both: the active run is kept between the calls, in a registry on
 * `globalThis` so that a second copy of this module (a transpiled setup file next to a compiled
 * teardown file) still finds it.
 */

export interface GlobalSetupOptions extends TestEnvironmentOptions {
  /**
   * Export the run's variables (DOCKER_STABILITY_RUN_ID, COMPOSE_PROJECT_NAME...) into
   * `process.env` for the tests, and restore the previous values at teardown. Default true:
   * test workers the framework starts after the setup inherit them.
   */
  exportEnv?: boolean;
}

export interface GlobalSetup {
  /** Begins the run: prediction, lock, sampling. Resolves with the run's environment. */
  setup(): Promise<TestEnvironment>;
  /**
   * Ends the run: records it (with `outcome` when the caller knows it), removes what it left
   * behind, releases the lock. Resolves with the report, or undefined when no run is active
   * (setup failed or never ran), so a framework's teardown never fails for that.
   */
  teardown(outcome?: RunOutcome): Promise<RunReport | undefined>;
  /** The run between setup and teardown. */
  readonly active: TestEnvironment | undefined;
}

interface Registered {
  /** Undefined while the setup is still beginning the run. */
  run?: ActiveTestRun;
  restoreEnv: () => void;
}

const REGISTRY_KEY = Symbol.for('docker-stability.activeTestRuns');

/** Active runs of this process by environment lock name. */
function registry(): Map<string, Registered> {
  const g = globalThis as { [REGISTRY_KEY]?: Map<string, Registered> };
  g[REGISTRY_KEY] ??= new Map();
  return g[REGISTRY_KEY];
}

function exportToProcessEnv(vars: Record<string, string>): () => void {
  const previous = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  return () => {
    for (const [k, v] of Object.entries(previous)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

async function endRegistered(envName: string, outcome?: RunOutcome): Promise<RunReport | undefined> {
  const entry = registry().get(envName);
  if (!entry?.run) return undefined;
  registry().delete(envName);
  try {
    return await entry.run.end(outcome);
  } finally {
    entry.restoreEnv();
  }
}

/**
 * A setup/teardown pair around a whole test session, on the same steps as
 * `withTestEnvironment`: setup predicts, waits for the environment lock and starts sampling;
 * teardown records the run, cleans up after it and releases the lock. One run per environment
 * lock and process: a second setup before teardown is an error.
 */
export function createGlobalSetup(opts: GlobalSetupOptions): GlobalSetup {
  if (typeof opts?.category !== 'string' || opts.category.trim() === '') {
    throw new TypeError('createGlobalSetup needs a category, e.g. { category: "integration" }');
  }
  const envName = opts.env ?? DEFAULT_LOCK_NAME;
  let mine: ActiveTestRun | undefined;
  return {
    async setup() {
      if (registry().has(envName)) {
        throw new Error(
          `a test run already holds the "${envName}" environment in this process: call teardown() first`,
        );
      }
      // Claimed before the wait: a second setup would otherwise queue for our own lock.
      const entry: Registered = { restoreEnv: () => undefined };
      registry().set(envName, entry);
      let run: ActiveTestRun;
      try {
        run = await beginTestRun(opts);
      } catch (err) {
        registry().delete(envName);
        throw err;
      }
      if (opts.exportEnv !== false) entry.restoreEnv = exportToProcessEnv(run.env);
      entry.run = run;
      mine = run;
      return { runId: run.runId, env: run.env, labels: run.labels, lock: run.lock };
    },
    async teardown(outcome) {
      if (!mine || registry().get(envName)?.run !== mine) return undefined;
      mine = undefined;
      return endRegistered(envName, outcome);
    },
    get active() {
      return mine && { runId: mine.runId, env: mine.env, labels: mine.labels, lock: mine.lock };
    },
  };
}

/**
 * Mocha's global fixtures (mocha >= 8.2; they run once in the main process, also with
 * `--parallel`, unlike root hooks). In a file passed with `--require`:
 *
 *     module.exports = mochaGlobalFixtures({ category: 'integration' });
 */
export function mochaGlobalFixtures(opts: GlobalSetupOptions): {
  mochaGlobalSetup: () => Promise<void>;
  mochaGlobalTeardown: () => Promise<void>;
} {
  const g = createGlobalSetup(opts);
  return {
    mochaGlobalSetup: async () => {
      await g.setup();
    },
    mochaGlobalTeardown: async () => {
      await g.teardown();
    },
  };
}

/**
 * Jest's `globalSetup` module: `module.exports = jestGlobalSetup({ category: 'integration' })`.
 * Jest starts its test workers after the global setup, so they inherit the exported variables.
 */
export function jestGlobalSetup(opts: GlobalSetupOptions): () => Promise<void> {
  const g = createGlobalSetup(opts);
  return async () => {
    await g.setup();
  };
}

/**
 * Jest's `globalTeardown` module: `module.exports = jestGlobalTeardown()`. Ends the run the
 * global setup began for environment `env` (default `test`); does nothing if none is active.
 */
export function jestGlobalTeardown(opts: { env?: string } = {}): () => Promise<void> {
  return async () => {
    await endRegistered(opts.env ?? DEFAULT_LOCK_NAME);
  };
}
