/**
 * The promise's outcome, or `timeoutError()` if it does not settle by `deadlineAt` (epoch ms).
 * The promise itself keeps running: the caller decides what to do with work that outlived its time.
 */
export function raceDeadline<T>(promise: Promise<T>, deadlineAt: number, timeoutError: () => Error): Promise<T> {
  if (!Number.isFinite(deadlineAt)) return promise;
  const remaining = deadlineAt - Date.now();
  if (remaining <= 0) {
    // Nobody waits for the promise any more: its failure must not become an unhandled rejection.
    promise.catch(() => undefined);
    return Promise.reject(timeoutError());
  }
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(timeoutError()), remaining);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
