import { measureDisk, reclaimedOnDisk } from '../../core/monitor/disk';
import {
  resolveOptions,
  runCleanup,
  summarize,
  type CleanupOptions,
  type CleanupPlan,
  type CleanupReport,
  type PlanEntry,
} from '../../core/cleanup';
import { LockDirError, LockManager, LockTimeoutError } from '../../core/lock';
import { stderrLogger } from '../../core/log';
import { defaultLockDir } from '../../core/paths';
import { formatDuration, parseDuration } from '../../core/util/duration';
import { stripControlChars } from '../../core/util/terminalText';
import { CliError, createClient, ExitCode, parseNumber, printJson, type Command } from '../util';
import { parseCommand } from '../options';
import { cleanupSettingsFrom } from '../config';
import { errorMessage } from '../../shared/errors';

const usage = `docker-stability cleanup [--dry-run] [--json] [--older-than 10m] [--include-images]
       [--label k=v ...] [--run-id ID] [--test-project GLOB ...] [--protect-label NAME]
       [--lock-timeout 60s] [--lock-dir D] [--concurrency 4] [--config F] [--verbose] [--host H]

Removes only what test runs own and have left: stopped containers of docker-stability runs, of
compose projects named like a test project (default *-test, *_test; a folder's name is no
proof) and of testcontainers sessions whose reaper is gone; running containers of runs whose
process is gone; their unused networks and unmounted volumes; with --include-images, their
dangling images. Never a running container of a live owner, never anything protected
(docker-stability.protect=true) or unowned (by creation time or an image's labels). --label restricts the pass to resources carrying
every given label. Defaults for --older-than, --include-images, --test-project and
--protect-label come from the "cleanup" section of --config (olderThanMs, includeImages,
testProjectPatterns, protectLabel); flags win. Exit codes: 0 ok, 1 some removals failed, 2 Docker unreachable, 3 another
cleanup held the lock too long, 64 usage.`;

const MAX_NAMES_PER_REASON = 8;

function duration(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  try {
    return parseDuration(value);
  } catch (err) {
    throw new CliError(`--${option}: ${errorMessage(err)}`, ExitCode.usage);
  }
}

/** `--label k=v` pairs into a scope; `k=` (empty value) is allowed, a bare `k` is not. */
export function parseLabels(pairs: string[] | undefined): Record<string, string> {
  const scope: Record<string, string> = {};
  for (const pair of pairs ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CliError(`--label expects key=value (got "${pair}")`, ExitCode.usage);
    scope[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return scope;
}

// Names and reasons come from the daemon (network names, label values): printed stripped.
function entryLine(e: PlanEntry): string {
  return `    ${e.type.padEnd(9)} ${stripControlChars(e.name).padEnd(36)} ${stripControlChars(e.reason)}`;
}

/** Kept entries grouped by reason, a few names each: a daemon may hold hundreds of unowned things. */
function keptLines(kept: PlanEntry[]): string[] {
  const byReason = new Map<string, PlanEntry[]>();
  for (const e of kept) byReason.set(e.reason, [...(byReason.get(e.reason) ?? []), e]);
  return [...byReason.entries()].map(([reason, es]) => {
    const names = es.slice(0, MAX_NAMES_PER_REASON).map((e) => `${e.type} ${stripControlChars(e.name)}`);
    const more = es.length > MAX_NAMES_PER_REASON ? `, … ${es.length - MAX_NAMES_PER_REASON} more` : '';
    return `    ${stripControlChars(reason)} (${es.length}): ${names.join(', ')}${more}`;
  });
}

export function renderPlan(plan: CleanupPlan): string {
  const o = plan.options;
  const lines = [
    `Cleanup plan for ${plan.endpoint} (daemon ${stripControlChars(plan.daemon.id)}) at ${plan.createdAt} (older than ${formatDuration(o.olderThanMs)}` +
      `${o.includeImages ? ', images included' : ''}${o.runId ? `, run ${o.runId}` : ''}):`,
    `  remove ${plan.remove.length}:`,
    ...plan.remove.map(entryLine),
    `  keep ${plan.keep.length}:`,
    ...keptLines(plan.keep),
  ];
  return lines.join('\n');
}

export function renderReport(report: CleanupReport, plan: CleanupPlan | undefined): string {
  const planned = new Set(plan?.keep.map((e) => `${e.type}/${e.id}`) ?? []);
  const keptNow = report.kept.filter((e) => !planned.has(`${e.type}/${e.id}`));
  const lines = [`Report: ${summarize(report)}`];
  if (keptNow.length) lines.push('  kept at removal time:', ...keptNow.map(entryLine));
  if (report.failed.length) lines.push('  failed:', ...report.failed.map(entryLine));
  return lines.join('\n');
}

/** The JSON the issue fixes: removed, kept, failed; each entry type, id, name, reason (and bytes when known). */
function jsonEntry(e: PlanEntry): Record<string, unknown> {
  return {
    type: e.type,
    id: e.id,
    name: e.name,
    reason: e.reason,
    ...(e.bytes !== undefined ? { bytes: e.bytes } : {}),
    ...(e.stopFirst ? { stopFirst: true } : {}),
  };
}

export const cleanupCommand: Command = {
  name: 'cleanup',
  summary:
    'Remove what test runs left behind (stopped containers, unused networks and volumes), never what anyone needs.',
  usage,
  async run(argv) {
    const { values, config } = parseCommand(argv, usage, {
      'dry-run': { type: 'boolean' },
      'older-than': { type: 'string' },
      'include-images': { type: 'boolean' },
      label: { type: 'string', multiple: true },
      'run-id': { type: 'string' },
      'test-project': { type: 'string', multiple: true },
      'protect-label': { type: 'string' },
      'lock-timeout': { type: 'string' },
      'lock-dir': { type: 'string' },
      concurrency: { type: 'string' },
      verbose: { type: 'boolean' },
    });
    const logger = stderrLogger(values.verbose ?? false);
    const client = createClient(values);
    const dryRun = values['dry-run'] ?? false;
    const fromConfig = cleanupSettingsFrom(config.cleanup, 'cleanup');
    const options: CleanupOptions = {
      olderThanMs: duration(values['older-than'], 'older-than') ?? fromConfig.olderThanMs,
      includeImages: values['include-images'] ?? fromConfig.includeImages,
      scope: parseLabels(values.label),
      runId: values['run-id'],
      testProjectPatterns: values['test-project'] ?? fromConfig.testProjectPatterns,
      protectLabel: values['protect-label'] ?? fromConfig.protectLabel,
      logger,
    };
    try {
      resolveOptions(options);
    } catch (err) {
      throw new CliError(errorMessage(err), ExitCode.usage);
    }
    let plan: CleanupPlan | undefined;
    let report: CleanupReport;
    try {
      report = await runCleanup(client, {
        ...options,
        concurrency: parseNumber(values.concurrency, 'concurrency', 1, 64),
        dryRun,
        lock: {
          manager: new LockManager({ dir: values['lock-dir'] ?? defaultLockDir(), logger }),
          timeoutMs: duration(values['lock-timeout'], 'lock-timeout'),
        },
        onPlan: (p) => {
          plan = p;
          if (!values.json) process.stdout.write(renderPlan(p) + '\n');
        },
      });
    } catch (err) {
      if (err instanceof LockTimeoutError) {
        throw new CliError(`another cleanup of this daemon is running: ${err.message}`, ExitCode.lockTimeout);
      }
      if (err instanceof LockDirError) throw new CliError(err.message, ExitCode.failure);
      throw err;
    }
    // the disk after a real cleanup, to say what the reclaimed bytes were worth
    const disk =
      !dryRun && report.bytesReclaimed
        ? await measureDisk(client)
            .then((d) => (d ? reclaimedOnDisk(report.bytesReclaimed ?? 0, d) : undefined))
            .catch(() => undefined)
        : undefined;
    if (values.json) {
      printJson({
        endpoint: client.endpoint.host,
        daemon: report.daemon,
        dryRun,
        removed: report.removed.map(jsonEntry),
        kept: report.kept.map(jsonEntry),
        failed: report.failed.map(jsonEntry),
        ...(report.bytesReclaimed !== undefined ? { bytesReclaimed: report.bytesReclaimed } : {}),
        ...(disk
          ? { disk: { points: disk.points, percentBefore: disk.percentBefore, after: disk.disk } }
          : {}),
        durationMs: report.durationMs,
      });
    } else if (dryRun) {
      process.stdout.write(`Dry run: nothing was removed (${report.removed.length} would be).\n`);
    } else {
      process.stdout.write(renderReport(report, plan) + '\n');
      if (disk)
        process.stdout.write(
          `  disk: ${disk.points}% of it reclaimed, about ${disk.percentBefore}% -> ${disk.disk.percent}% (${disk.disk.source})\n`,
        );
    }
    return report.failed.length ? ExitCode.failure : ExitCode.ok;
  },
};
