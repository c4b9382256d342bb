import { ValidationError } from '../../../../lambdas/core/errors';
import type { JobSchedule, JobScheduler } from '../../../../lambdas/core/ports/job-scheduler';
import { JobConfigService } from '../../../../lambdas/core/schedules/job-config-service';
import { JobRunner } from '../../../../lambdas/core/schedules/job-runner';
import { MemoryStateStore } from '../../../helpers/memory-state-store';

/** A scheduler that keeps the last schedule written per configuration. */
class RecordingScheduler implements JobScheduler {
  readonly schedules = new Map<string, JobSchedule>();
  async create(s: JobSchedule) { this.schedules.set(s.jobConfigId, s); }
  async update(s: JobSchedule) { await new Promise((r) => setTimeout(r, Math.random() * 5)); this.schedules.set(s.jobConfigId, s); }
  async remove(id: string) { this.schedules.delete(id); }
  async runNow() {}
}

let state: MemoryStateStore;
let scheduler: RecordingScheduler;
let service: JobConfigService;
let n = 0;
const now = new Date('2026-12-01T12:00:00Z');

beforeEach(() => {
  state = new MemoryStateStore();
  scheduler = new RecordingScheduler();
  service = new JobConfigService({ state, clock: { now: () => now }, ids: { newId: () => `id-${n++}` }, jobScheduler: scheduler });
});

const base = { name: 'nightly', operation: 'cckm_key_rotation' as const, run_at: '0 3 * * *' };

describe('job configuration validation (400 naming the field, nothing made)', () => {
  it.each([
    [{ ...base, run_at: '0 3 * *' }, 'run_at', /must have 5 fields/],
    [{ ...base, start_date: '2027-02-01T00:00:00Z', end_date: '2027-01-01T00:00:00Z' }, 'end_date', /must be after start_date/],
    [{ ...base, start_date: 'tomorrow' }, 'start_date', /RFC 3339/],
    [{ ...base, timezone: 'Mars/Olympus' }, 'timezone', /not an IANA time zone/],
    [{ ...base, cckm_xks_credential_rotation_params: { cloud_name: 'aws' } }, 'cckm_xks_credential_rotation_params', /belongs to operation cckm_xks_credential_rotation/],
    [{ ...base, cckm_key_rotation_params: { cloud_name: 'aws', expire_in: 0 } }, 'cckm_key_rotation_params.expire_in', /whole number of days from 1 to 36500 .*not 0/],
    [{ ...base, cckm_key_rotation_params: { cloud_name: 'aws', expire_in: 36501 } }, 'cckm_key_rotation_params.expire_in', /not 36501/],
    [{ ...base, cckm_key_rotation_params: { cloud_name: 'aws', expire_in: 1.5 } }, 'cckm_key_rotation_params.expire_in', /not 1.5/],
    [{ ...base, cckm_key_rotation_params: { cloud_name: 'aws', expiration: 'next year' } }, 'cckm_key_rotation_params.expiration', /RFC 3339/],
    [{ ...base, cckm_key_rotation_params: { cloud_name: 'aws', expiration: '2026-12-01T11:59:59Z' } }, 'cckm_key_rotation_params.expiration', /has passed/],
    [{ ...base, operation: 'cckm_synchronization' as const }, 'cckm_synchronization_params', /either kms .* or synchronize_all/],
    [{ ...base, operation: 'cckm_synchronization' as const, cckm_synchronization_params: { cloud_name: 'aws', kms: ['a'], synchronize_all: true } }, 'cckm_synchronization_params', /either kms/],
  ])('%j → 400 on %s', async (request, field, message) => {
    const error = await service.create(request as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe(field);
    expect((error as Error).message).toMatch(message);
    expect(await state.list('jobConfig')).toEqual([]);
    expect(scheduler.schedules.size).toBe(0);
  });
});

it('keeps expire_in and expiration of a key rotation configuration (expiration in UTC)', async () => {
  const made = await service.create({ ...base, cckm_key_rotation_params: { cloud_name: 'aws', expire_in: 30, expiration: '2027-06-30T12:00:00+02:00' } });
  expect(made.job_config_params).toEqual({ cloud_name: 'aws', expire_in: 30, expiration: '2027-06-30T10:00:00.000Z' });
});

describe('job configuration updates', () => {
  it('loses nothing when updates race, and the schedule ends as the record', async () => {
    const made = await service.create(base);
    await Promise.all([
      service.update(made.id, { description: 'rotates the HYOK keys' }),
      service.update(made.id, { run_at: '30 4 * * ?' }),
      service.update(made.id, { disabled: true }),
      service.update(made.id, { timezone: 'Europe/Paris' }),
    ]);
    const after = await service.get(made.id);
    expect(after).toMatchObject({ description: 'rotates the HYOK keys', run_at: '30 4 * * ?', disabled: true, timezone: 'Europe/Paris' });
    expect(scheduler.schedules.get(made.id)).toEqual({ jobConfigId: made.id, runAt: '30 4 * * ?', timezone: 'Europe/Paris', enabled: false });
  });

  it('lists with filters', async () => {
    await service.create(base);
    await service.create({ ...base, name: 'off', disabled: true });
    expect((await service.list({ disabled: 'true' })).resources.map((c) => c.name)).toEqual(['off']);
    expect((await service.list({ operation: 'cckm_key_rotation', sort: 'name' })).resources.map((c) => c.name)).toEqual(['nightly', 'off']);
  });
});

describe('job runner', () => {
  it('makes one run of a scheduled time however often it is delivered, and none for a disabled configuration', async () => {
    const made = await service.create(base);
    const runner = new JobRunner({ state, clock: { now: () => now }, keyStoreCredentials: { rotate: jest.fn() }, hyokKeys: { rotate: jest.fn() }, hsmKeys: { create: jest.fn(), delete: jest.fn() } } as never);
    const event = { job_config_id: made.id, scheduled_time: '2026-12-01T03:00:00.000Z' };
    const [first, second] = await Promise.all([runner.run(event), runner.run(event)]);
    expect([first, second].filter((r) => r !== undefined)).toHaveLength(1);
    expect(await runner.run(event)).toBeUndefined();
    expect(await state.list('jobRun')).toHaveLength(1);
    expect((first ?? second)!).toMatchObject({ status: 'completed', results: [], trigger: 'schedule', scheduled_time: '2026-12-01T03:00:00.000Z' });
    await service.update(made.id, { disabled: true });
    expect(await runner.run({ ...event, scheduled_time: '2026-12-02T03:00:00.000Z' })).toBeUndefined();
  });
});
