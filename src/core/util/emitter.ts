import type { Logger } from '../log';
import { errorMessage } from '../../shared/errors';

/** A function that stops a subscription. */
export type Unsubscribe = () => void;

/**
 * Listeners of one kind of event, called in subscription order. A listener that throws is
 * logged and does not stop the others (one broken panel must not starve the status bar).
 */
export class Emitter<T> {
  private readonly listeners = new Set<(value: T) => void>();

  constructor(
    private readonly what: string,
    private readonly logger: Logger,
  ) {}

  on(cb: (value: T) => void): Unsubscribe {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  emit(value: T): void {
    for (const cb of this.listeners) {
      try {
        cb(value);
      } catch (err) {
        this.logger.error(`${this.what} listener failed: ${errorMessage(err)}`);
      }
    }
  }

  clear(): void {
    this.listeners.clear();
  }
}
