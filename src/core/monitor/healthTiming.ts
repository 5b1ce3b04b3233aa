import type { DockerClient } from '../docker/client';
import { healthDeadlineMs, type HealthcheckTiming, type IncidentDetector } from '../incidents/detector';
import type { Logger } from '../log';
import type { InventoryCounts } from './inventory';
import { ownerOf } from './owners';

/** Containers in `starting` health inspected per sample at most (each once, for its healthcheck). */
const HEALTH_INSPECTS_PER_SAMPLE = 8;

/**
 * Starts timing the healthchecks of containers the list shows `starting`: one inspect each
 * (for its start time and healthcheck), in the background, a few per sample. `healthyWithinMs`
 * (0: each container's own healthcheck decides) is read when the inspect answers, so a
 * settings change in between applies.
 */
export function timeHealthchecks(
  client: DockerClient,
  detector: IncidentDetector,
  counts: InventoryCounts,
  healthyWithinMs: () => number,
  logger: Logger,
): void {
  let budget = HEALTH_INSPECTS_PER_SAMPLE;
  for (const [id, d] of counts.details) {
    if (!d.healthStarting || detector.isTimingHealth(id) || budget-- <= 0) continue;
    const container = { id: id.slice(0, 12), name: d.name, owner: ownerOf(d.labels) };
    // timed from now until the inspect answers: a second sample must not inspect it again
    detector.timeHealth(id, container, Date.now(), Number.MAX_SAFE_INTEGER);
    void client
      .call('inspect container', (api, abortSignal) => api.getContainer(id).inspect({ abortSignal }))
      .then((c) => {
        if (c.State.Health?.Status !== 'starting' || !detector.isTimingHealth(id)) return;
        const bound =
          healthyWithinMs() ||
          healthDeadlineMs((c.Config as { Healthcheck?: HealthcheckTiming }).Healthcheck);
        detector.timeHealth(id, container, Date.parse(c.State.StartedAt), bound);
      })
      .catch((err: Error) => logger.debug(`inspect ${id.slice(0, 12)}: ${err.message}`));
  }
}
