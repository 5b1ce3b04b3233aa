import type { DockerClient, DockerEvent } from '../docker/client';
import { Labels } from '../labels';

/** Seconds since the epoch with nanoseconds, as `/events` takes `since` and `until`. */
function eventTime(nanos: bigint): string {
  const s = nanos / 1_000_000_000n;
  return `${s}.${(nanos % 1_000_000_000n).toString().padStart(9, '0')}`;
}

/** Now in nanoseconds since the epoch (the daemon's `timeNano` scale; wall clock, as the daemon's). */
export function nowNanos(): bigint {
  return BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
}

/** More resources than this created in one run: not followed one by one, the cleanup pass decides. */
const MAX_TRACKED = 10_000;

/** How long the daemon may take to send the window's events before the answer is "maybe". */
const EVENTS_TIMEOUT_MS = 5_000;

/**
 * Whether a run may have left something on the daemon, from the daemon's own events between two
 * instants (nanosecond times, so no second boundary is waited for): a container carrying the
 * run's id that was created and not destroyed in the window, or any network or volume created
 * and not destroyed (their events carry no labels, so whose they are cannot be told). Other
 * containers (other runs', unlabelled ones) are not this run's cleanup's to remove. Any doubt (an
 * error, a slow daemon, an event without an id) counts as yes.
 */
export async function mayHaveLeft(
  client: DockerClient,
  runId: string,
  fromNanos: bigint,
  toNanos: bigint,
): Promise<boolean> {
  // A second of margin before the start against a clock difference between this host and the
  // daemon; none after the end, where the daemon would wait for `until` to come (a daemon
  // clock behind ours costs that difference, up to the 5 s bound).
  const from = fromNanos - 1_000_000_000n;
  const since = eventTime(from);
  const until = eventTime(toNanos);
  const left = new Set<string>();
  return new Promise<boolean>((resolve) => {
    let close: (() => void) | undefined;
    let done = false;
    const timer = setTimeout(() => finish(true), EVENTS_TIMEOUT_MS);
    const finish = (answer: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      close?.();
      resolve(answer);
    };
    const onEvent = (e: DockerEvent): void => {
      const id = e.Actor?.ID;
      const kind = e.Type;
      if (typeof id !== 'string' || !id || typeof kind !== 'string') return finish(true);
      const key = `${kind}/${id}`;
      if (e.Action === 'destroy') {
        left.delete(key);
        return;
      }
      // A create from before the window's margin (a daemon clock far ahead) is not the run's to judge.
      if (e.timeNano !== undefined && BigInt(Math.round(e.timeNano)) < from) return;
      if (kind === 'container' && e.Actor?.Attributes?.[Labels.runId] !== runId) return;
      left.add(key);
      if (left.size > MAX_TRACKED) finish(true);
    };
    client
      .events(
        { type: ['container', 'network', 'volume'], event: ['create', 'destroy'] },
        onEvent,
        (err) => finish(err ? true : left.size > 0),
        { since, until },
      )
      .then(
        (c) => {
          close = c;
          if (done) c();
        },
        () => finish(true),
      );
  });
}
