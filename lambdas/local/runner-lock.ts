/**
 * One local runner per state folder: `<state>/runner.lock` holds the running runner's pid. A lock
 * whose pid is gone (or now belongs to some other program) is stale and taken over.
 */
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export class RunnerAlreadyRunningError extends Error {
  constructor(readonly pid: number) {
    super(`already running (pid ${pid}), stop it with Ctrl-C or kill ${pid}`);
    this.name = 'RunnerAlreadyRunningError';
  }
}

export interface RunnerLock {
  readonly path: string;
  /** Removes the lock if it is still ours. */
  release(): void;
}

/** True when `pid` is a live process that looks like a local runner (its command line names bin/local). */
function isRunnerAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('local');
  } catch {
    return true; // no /proc: trust the pid
  }
}

/** Takes the lock or throws RunnerAlreadyRunningError naming the running runner's pid. */
export function acquireRunnerLock(stateDir: string): RunnerLock {
  const path = join(stateDir, 'runner.lock');
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: 'wx' });
      return {
        path,
        release: () => {
          try {
            if (Number.parseInt(readFileSync(path, 'utf8'), 10) === process.pid) unlinkSync(path);
          } catch {
            // already gone
          }
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = Number.parseInt(readFileSync(path, 'utf8'), 10);
    if (Number.isInteger(holder) && holder !== process.pid && isRunnerAlive(holder)) {
      throw new RunnerAlreadyRunningError(holder);
    }
    unlinkSync(path); // stale: its runner is gone
  }
  throw new Error(`could not take ${path}: another runner is starting at the same time`);
}
