/**
 * Optimistic concurrency for read-modify-write services: read a record, compute the change, write it
 * with `expectedVersion`; when another request changed the record in between, read again and
 * recompute, a bounded number of times. Only the version guard is retried: an op that fails any
 * other condition (a name taken, a counter out of range, a record in use) is answered at once.
 */
import { ConflictError, isError } from './errors';

/** `conflictMessage` of version-guarded ops; a ConflictError with it means "re-read and retry". */
export const CHANGED_CONCURRENTLY = 'The resource was changed by another request while this one was applied';

/** Enough for a few dozen concurrent writers of one record. */
const ATTEMPTS = 25;
/** Upper bound of the random pause before attempt n is `n * MAX_PAUSE_MS`. */
const MAX_PAUSE_MS = 15;

export async function retryOnChange<T>(attempt: () => Promise<T>): Promise<T> {
  for (let n = 1; ; n += 1) {
    try {
      return await attempt();
    } catch (error) {
      if (!isError(error, ConflictError) || error.message !== CHANGED_CONCURRENTLY) throw error;
      if (n >= ATTEMPTS) {
        throw new ConflictError('Too many concurrent changes to this resource; please retry', { cause: error });
      }
      // Random pause so that writers that collided do not collide again in lockstep.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * MAX_PAUSE_MS * n));
    }
  }
}
