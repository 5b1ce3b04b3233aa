export * from './types';
export * from './formulas';
export * from './settings';
export * from './history';
export { ResourceMonitor, type MonitorOptions } from './monitor';
export { ContainerStatsReader, type ContainerFigure, type StatsPath } from './containerStats';
export { CgroupReader } from './cgroup';
export { Inventory } from './inventory';
export { SharedMonitor, type MonitorRole, type SharedMonitorOptions } from './shared';
