import { DEFAULT_THRESHOLDS } from '../../../src/core/levels';
import type { SampleInputs } from '../../../src/core/monitor/formulas';

export const GiB = 1024 ** 3;

/** Inputs for buildSample: 1 GiB of 8, 20% CPU of two cores, a few counts; override what a test needs. */
export function sampleInputs(over: Partial<SampleInputs> = {}): SampleInputs {
  return {
    endpoint: 'unix:///var/run/docker.sock',
    sampledAt: new Date('2026-01-02T03:04:05.000Z'),
    memoryBytes: 1 * GiB,
    memoryCapacity: 8 * GiB,
    cpuPercent: 20,
    cpuCapacity: 200,
    containers: 10,
    running: 4,
    networks: 3,
    volumes: 5,
    capacities: { containers: 100, networks: 31, volumes: 200 },
    thresholds: { ...DEFAULT_THRESHOLDS },
    source: { cgroup: 4, api: 0, failed: 0 },
    durationMs: 12.345,
    ...over,
  };
}
