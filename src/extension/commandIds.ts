/** Every command the extension contributes, in one table (ids mirror package.json). */
export const CommandId = {
  openDashboard: 'dockerStability.openDashboard',
  cleanUpNow: 'dockerStability.cleanUpNow',
  forceReleaseLocks: 'dockerStability.forceReleaseLocks',
  applyBaseCompose: 'dockerStability.applyBaseCompose',
  acquireLock: 'dockerStability.acquireLock',
  releaseLock: 'dockerStability.releaseLock',
  pauseMonitoring: 'dockerStability.pauseMonitoring',
  resumeMonitoring: 'dockerStability.resumeMonitoring',
  showLog: 'dockerStability.showLog',
  runDoctor: 'dockerStability.runDoctor',
} as const;

export type CommandIdValue = (typeof CommandId)[keyof typeof CommandId];
