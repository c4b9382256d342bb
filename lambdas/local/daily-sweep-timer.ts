/**
 * Local mode's stand-in for the daily sweep's EventBridge Scheduler schedule: the runner runs the
 * sweep (lambdas/sweeps/daily-sweep.ts) in-process at start and then once a day; a run never
 * overlaps the previous one, and a failed run is logged and tried again the next day.
 */
import { type DailySweepPorts, runDailySweep } from '../sweeps/daily-sweep';

export const DAILY_MS = 24 * 60 * 60_000;

export interface RunningDailySweep {
  /** Resolves when the run in progress (if any) has ended; no further run starts. */
  stop(): Promise<void>;
}

export function startDailySweep(ports: DailySweepPorts, log: (message: string) => void, intervalMs = DAILY_MS): RunningDailySweep {
  const logger = {
    info: (message: string, details?: unknown) => log(`${message} ${JSON.stringify(details ?? {})}`),
    warn: (message: string, details?: unknown) => log(`WARNING: ${message} ${JSON.stringify(details ?? {})}`),
  };
  let current: Promise<void> = Promise.resolve();
  let stopped = false;
  const runOnce = (): void => {
    if (stopped) return;
    current = current.then(async () => {
      await runDailySweep(ports, logger as never).then(
        () => undefined,
        (error: unknown) => log(`WARNING: daily sweep failed: ${error instanceof Error ? error.message : String(error)}`),
      );
    });
  };
  runOnce();
  const timer = setInterval(runOnce, intervalMs);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await current;
    },
  };
}
