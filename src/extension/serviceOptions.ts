// Plain translations from the extension's settings and the core's reports to what the core
// takes and the dashboard shows; shared by the services and the commands.
import type { CleanupOptions, CleanupReport } from '../core/cleanup';
import type { CleanupReportView, DashboardSettings } from '../shared/protocol';
import type { ExtensionConfig } from './settings';

export function dashboardSettings(c: ExtensionConfig): DashboardSettings {
  return {
    thresholds: c.monitor.thresholds,
    intervalMs: c.monitor.intervalMs,
    historySize: c.monitor.historySize,
    memoryBudgetBytes: c.health.memoryBudgetBytes,
  };
}

export function cleanupOptions(c: ExtensionConfig, extra: Partial<CleanupOptions> = {}): CleanupOptions {
  return {
    olderThanMs: c.cleanup.olderThanMs,
    includeImages: c.cleanup.includeImages,
    testProjectPatterns: c.cleanup.testProjectPatterns,
    protectLabel: c.cleanup.protectLabel,
    ...extra,
  };
}

export function reportView(r: CleanupReport, trigger: string, dryRun = false): CleanupReportView {
  const entry = (e: {
    type: string;
    name: string;
    reason: string;
  }): { kind: string; name: string; reason: string } => ({ kind: e.type, name: e.name, reason: e.reason });
  return {
    finishedAt: new Date().toISOString(),
    trigger,
    dryRun,
    removed: r.removed.map(entry),
    kept: r.kept.map(entry),
    failed: r.failed.map((e) => ({ kind: e.type, name: e.name, error: e.reason })),
    bytesReclaimed: r.bytesReclaimed,
  };
}
