/**
 * Job configurations as stored and shown (README "Schedules"): what to run (`operation` and its
 * params), when (`run_at`, read in `timezone` between `start_date` and `end_date`), and whether it
 * is switched off (`disabled`). The request's params object for the operation
 * (`cckm_<operation>_params`) is shown as `job_config_params`.
 */
import { type CreateJobConfigRequest, JOB_OPERATIONS, type JobOperation, type UpdateJobConfigRequest } from '../../contract/scheduler-schemas';
import { ValidationError } from '../errors';
import { envelope, type ResourceEnvelope, type Timestamps } from '../resource';
import type { JobSchedule } from '../ports/job-scheduler';
import { parseCron, RUN_AT_FIELD } from './cron';

export { JOB_OPERATIONS, type JobOperation, type CreateJobConfigRequest };

/** The request field holding an operation's params. */
export const paramsField = (operation: JobOperation): string => `${operation}_params`;

export const JOB_CONFIG_RESOURCE = 'Job configuration';

/** Targets one configuration may have: one run handles them all, within one invocation. */
export const MAX_ASSIGNED_PER_CONFIG = 50;

/** `cckm_synchronization_params`: which account containers' AWS keys a run synchronizes. */
export interface SynchronizationParams {
  readonly cloud_name: 'aws';
  /** Account containers (names or ids); or */
  readonly kms?: readonly string[];
  /** every container, each with all its regions. */
  readonly synchronize_all?: boolean;
}

export interface KeyRotationParams {
  readonly cloud_name: 'aws';
  /** Rotate a key only when its current version is at least this many days old (0: every run). */
  readonly rotation_after?: number;
  /** Days (1-36500) after a rotation at which the version it replaced stops decrypting. */
  readonly expire_in?: number;
  /** RFC 3339: versions a rotation replaces stop decrypting at this time (at the rotation, when it has passed). */
  readonly expiration?: string;
}

/** Largest `expire_in`: a hundred years, as for `rotation_after`. */
export const MAX_EXPIRE_IN_DAYS = 36500;

export const DAY_MS = 86_400_000;

/**
 * When the version that a rotation at `now` replaces stops decrypting: `expire_in` days later or
 * at `expiration`, whichever comes first (never before the rotation); undefined without either.
 */
export function replacedVersionExpiry(params: KeyRotationParams, now: Date): string | undefined {
  const times = [
    ...(params.expire_in === undefined ? [] : [now.getTime() + params.expire_in * DAY_MS]),
    ...(params.expiration === undefined ? [] : [Math.max(now.getTime(), Date.parse(params.expiration))]),
  ];
  return times.length === 0 ? undefined : new Date(Math.min(...times)).toISOString();
}

export interface JobConfigData extends Timestamps {
  readonly name: string;
  readonly operation: JobOperation;
  readonly runAt: string;
  readonly timezone: string;
  readonly description?: string;
  readonly disabled: boolean;
  readonly startDate?: string;
  readonly endDate?: string;
  readonly params: Readonly<Record<string, unknown>>;
}

export interface JobConfigResource extends ResourceEnvelope {
  readonly name: string;
  readonly operation: JobOperation;
  readonly run_at: string;
  readonly timezone: string;
  readonly description: string;
  readonly disabled: boolean;
  readonly start_date?: string;
  readonly end_date?: string;
  readonly job_config_params: Readonly<Record<string, unknown>>;
  /** Key stores and keys assigned to it. */
  readonly assigned_count: number;
}

/** The request fields a create or update may carry (the update route's schema; a create's adds `operation`). */
export type JobConfigFields = UpdateJobConfigRequest;

/** The params object of `operation` in a request (`cckm_<operation>_params`). */
const paramsIn = (fields: JobConfigFields, operation: JobOperation): Record<string, unknown> | undefined =>
  (fields as Readonly<Record<string, Record<string, unknown> | undefined>>)[paramsField(operation)];

export function jobConfigResource(id: string, data: JobConfigData, assigned: number): JobConfigResource {
  return {
    ...envelope('scheduler_job_config', id, data),
    name: data.name,
    operation: data.operation,
    run_at: data.runAt,
    timezone: data.timezone,
    description: data.description ?? '',
    disabled: data.disabled,
    ...(data.startDate === undefined ? {} : { start_date: data.startDate }),
    ...(data.endDate === undefined ? {} : { end_date: data.endDate }),
    job_config_params: data.params,
    assigned_count: assigned,
  };
}

export function scheduleOf(id: string, data: JobConfigData): JobSchedule {
  return {
    jobConfigId: id,
    runAt: data.runAt,
    timezone: data.timezone,
    ...(data.startDate === undefined ? {} : { startDate: data.startDate }),
    ...(data.endDate === undefined ? {} : { endDate: data.endDate }),
    enabled: !data.disabled,
  };
}

/**
 * The configuration `fields` make of `base` (undefined for a create), checked: the cron
 * expression, the time zone, end after start, the operation's params and no other operation's.
 */
export function applyFields(operation: JobOperation, fields: JobConfigFields, base: JobConfigData | undefined, now: string): JobConfigData {
  for (const other of JOB_OPERATIONS) {
    if (other !== operation && paramsIn(fields, other) !== undefined) {
      throw new ValidationError(`belongs to operation ${other}, not ${operation}`, paramsField(other));
    }
  }
  const runAt = fields.run_at ?? base?.runAt;
  if (runAt === undefined) throw new ValidationError('is required', RUN_AT_FIELD);
  parseCron(runAt);
  const timezone = fields.timezone ?? base?.timezone ?? 'UTC';
  checkTimezone(timezone);
  const startDate = pick(fields, 'start_date', base?.startDate);
  const endDate = pick(fields, 'end_date', base?.endDate);
  if (startDate !== undefined && endDate !== undefined && Date.parse(endDate) <= Date.parse(startDate)) {
    throw new ValidationError(`must be after start_date (${startDate})`, 'end_date');
  }
  const rawParams = paramsIn(fields, operation);
  const params = rawParams === undefined ? (base?.params ?? checkParams(operation, {}, now)) : checkParams(operation, rawParams, now);
  const description = fields.description ?? base?.description;
  return {
    name: fields.name ?? base?.name ?? '',
    operation,
    runAt: runAt.trim(),
    timezone,
    ...(description === undefined ? {} : { description }),
    disabled: fields.disabled ?? base?.disabled ?? false,
    ...(startDate === undefined ? {} : { startDate }),
    ...(endDate === undefined ? {} : { endDate }),
    params,
    createdAt: base?.createdAt ?? now,
    updatedAt: now,
  };
}

const RFC_3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

/** A date field: the request's value, `null`/'' to clear it, else the stored one. */
function pick(fields: JobConfigFields, name: 'start_date' | 'end_date', stored: string | undefined): string | undefined {
  if (!(name in fields)) return stored;
  const value = fields[name];
  if (value === null || value === '' || value === undefined) return undefined;
  return rfc3339(value, name);
}

/** `value` as an RFC 3339 date and time, in UTC; a 400 naming `field` otherwise. */
function rfc3339(value: unknown, field: string): string {
  if (typeof value !== 'string' || !RFC_3339.test(value) || Number.isNaN(Date.parse(value))) {
    throw new ValidationError(`must be an RFC 3339 date and time (e.g. 2027-01-01T00:00:00Z), not ${JSON.stringify(value)}`, field);
  }
  return new Date(value).toISOString();
}

function checkTimezone(timezone: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    throw new ValidationError(`${JSON.stringify(timezone)} is not an IANA time zone (e.g. UTC, Europe/Paris)`, 'timezone');
  }
}

/** The operation's params, checked beyond their schema's shape. */
function checkParams(operation: JobOperation, params: Record<string, unknown>, now: string): Record<string, unknown> {
  const field = paramsField(operation);
  const cloudName = params.cloud_name ?? 'aws';
  if (cloudName !== 'aws') throw new ValidationError(`cloud_name must be "aws" (the only cloud this key manager serves)`, field);
  if (operation === 'cckm_key_rotation') return checkKeyRotationParams(params, field, now);
  if (operation === 'cckm_synchronization') {
    const kms = (params.kms as readonly string[] | undefined) ?? [];
    const all = params.synchronize_all === true;
    if (all === kms.length > 0) {
      throw new ValidationError('give either kms (the account containers to synchronize, names or ids) or synchronize_all: true', field);
    }
  }
  return { ...params, cloud_name: 'aws' };
}

/** `expire_in` within its days, `expiration` a time still to come (kept in UTC), no `aws_param`. */
function checkKeyRotationParams(params: Record<string, unknown>, field: string, now: string): Record<string, unknown> {
  const expireIn = params.expire_in;
  if (expireIn !== undefined && (!Number.isInteger(expireIn) || (expireIn as number) < 1 || (expireIn as number) > MAX_EXPIRE_IN_DAYS)) {
    throw new ValidationError(`must be a whole number of days from 1 to ${MAX_EXPIRE_IN_DAYS} (how long the version a rotation replaces still decrypts), not ${JSON.stringify(expireIn)}`, `${field}.expire_in`);
  }
  const expiration = params.expiration === undefined ? undefined : rfc3339(params.expiration, `${field}.expiration`);
  if (expiration !== undefined && Date.parse(expiration) <= Date.parse(now)) {
    throw new ValidationError(`${expiration} has passed: every rotation would make the version it replaces stop decrypting at once`, `${field}.expiration`);
  }
  if (params.aws_param !== undefined) {
    throw new ValidationError('aws_param (retain_alias) does not apply to HYOK keys: a rotation adds a version to the same KMS key, whose aliases stay', field);
  }
  return { ...params, ...(expiration === undefined ? {} : { expiration }), cloud_name: 'aws' };
}
