export * from './types';
export { IncidentDetector, DEFAULT_RESTART_LOOP, type DetectorOptions } from './detector';
