import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalJobScheduler } from '../../../lambdas/local/adapters/local-job-scheduler';
import { LocalScheduler } from '../../../lambdas/local/local-scheduler';
import type { JobRunnerEvent } from '../../../lambdas/core/ports/job-scheduler';
import type { JobRunResource } from '../../../lambdas/core/schedules/job-run';

let stateDir: string;
let events: JobRunnerEvent[];

beforeEach(() => {
  stateDir = mkdtempSync(join(tmpdir(), 'local-scheduler-'));
  events = [];
});
afterEach(() => rmSync(stateDir, { recursive: true, force: true }));

/** A scheduler over the state folder, as the local runner starts it (each one a "process"). */
function schedulerProcess(): LocalScheduler {
  return new LocalScheduler({
    stateDir,
    manualClock: true,
    log: () => undefined,
    run: async (event) => {
      events.push(event);
      return { id: 'run', operation: 'cckm_key_rotation', job_config_name: 'n', trigger: 'schedule', status: 'completed', done_count: 0, failed_count: 0 } as unknown as JobRunResource;
    },
  });
}

const written = new Date('2026-12-01T10:00:30Z');
const at = (iso: string): Date => new Date(iso);

describe('LocalScheduler', () => {
  it('runs each due time once, in the configuration time zone and within its dates', async () => {
    const schedules = new LocalJobScheduler({ stateDir, now: () => written });
    await schedules.create({ jobConfigId: 'hourly', runAt: '0 * * * ?', timezone: 'UTC', enabled: true });
    await schedules.create({ jobConfigId: 'paris-9', runAt: '0 9 ? * *', timezone: 'Europe/Paris', enabled: true });
    await schedules.create({ jobConfigId: 'off', runAt: '* * * * *', timezone: 'UTC', enabled: false });
    await schedules.create({ jobConfigId: 'later', runAt: '* * * * *', timezone: 'UTC', enabled: true, startDate: '2026-12-02T00:00:00.000Z' });
    const scheduler = schedulerProcess();

    await scheduler.tick(at('2026-12-01T10:59:59Z'));
    expect(events).toEqual([]);
    await scheduler.tick(at('2026-12-01T11:00:00Z'));
    await scheduler.tick(at('2026-12-01T11:00:40Z'));
    expect(events).toEqual([{ job_config_id: 'hourly', scheduled_time: '2026-12-01T11:00:00.000Z' }]);
    await scheduler.tick(at('2026-12-02T08:00:10Z')); // 09:00 in Paris
    expect(events.slice(1)).toEqual([
      { job_config_id: 'hourly', scheduled_time: '2026-12-02T08:00:00.000Z' },
      { job_config_id: 'paris-9', scheduled_time: '2026-12-02T08:00:00.000Z' },
      { job_config_id: 'later', scheduled_time: '2026-12-02T08:00:00.000Z' },
    ]);
  });

  it('reads names and day rules in the configuration time zone: the last Friday of the month at 23:30 in Tokyo', async () => {
    const schedules = new LocalJobScheduler({ stateDir, now: () => written });
    await schedules.create({ jobConfigId: 'tokyo-last-friday', runAt: '30 23 ? * friL', timezone: 'Asia/Tokyo', enabled: true });
    const scheduler = schedulerProcess();
    // 25 Dec 2026 is December's last Friday; 23:30 in Tokyo is 14:30 UTC. The Friday before is not the last.
    await scheduler.tick(at('2026-12-18T14:30:10Z'));
    expect(events).toEqual([]);
    await scheduler.tick(at('2026-12-25T14:30:10Z'));
    expect(events).toEqual([{ job_config_id: 'tokyo-last-friday', scheduled_time: '2026-12-25T14:30:00.000Z' }]);
  });

  it('keeps schedules over a restart and replays a run that fell due while stopped once, however many did', async () => {
    await new LocalJobScheduler({ stateDir, now: () => written }).create({ jobConfigId: 'every-minute', runAt: '* * * * *', timezone: 'UTC', enabled: true });
    await schedulerProcess().tick(at('2026-12-01T10:01:05Z'));
    expect(events).toEqual([{ job_config_id: 'every-minute', scheduled_time: '2026-12-01T10:01:00.000Z' }]);

    // "Stopped" for five hours: a new process, the same state folder.
    const restarted = schedulerProcess();
    await restarted.tick(at('2026-12-01T15:01:30Z'));
    await restarted.tick(at('2026-12-01T15:01:50Z'));
    expect(events.slice(1)).toEqual([{ job_config_id: 'every-minute', scheduled_time: '2026-12-01T15:01:00.000Z' }]);

    // And a third start at the same time replays nothing again.
    await schedulerProcess().tick(at('2026-12-01T15:01:55Z'));
    expect(events).toHaveLength(2);
  });

  it('takes queued run-now requests at the next tick, once; a removed schedule no longer runs', async () => {
    const schedules = new LocalJobScheduler({ stateDir, now: () => written });
    await schedules.create({ jobConfigId: 'c', runAt: '* * * * *', timezone: 'UTC', enabled: true });
    await schedules.runNow({ job_config_id: 'c', job_run_id: 'r1' });
    await schedules.remove('c');
    const scheduler = schedulerProcess();
    await scheduler.tick(at('2026-12-01T10:05:00Z'));
    await scheduler.tick(at('2026-12-01T10:06:00Z'));
    expect(events).toEqual([{ job_config_id: 'c', job_run_id: 'r1' }]);
  });
});
