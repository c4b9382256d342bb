/**
 * Request and query schemas of the scheduler routes (`/v1/scheduler/job-configs`, `/jobs`) and of
 * the schedule assignments on key stores and AWS keys (README "Schedules"; referenced from
 * ./schemas.ts). TypeBox (schema-parts.ts), request types beside them: the cron expression, the dates' order and the params' meaning are
 * checked by the service (core/schedules/job-config.ts).
 */
import { Type } from '@sinclair/typebox';
import type { RequestOf, RequestSchema } from './json-schema';
import { LISTS } from './lists';
import { displayName, enumOf, listQuery as query, strictObject as strict, text } from './schema-parts';

/** What a job configuration runs. */
export const JOB_OPERATIONS = ['cckm_xks_credential_rotation', 'cckm_synchronization', 'cckm_key_rotation'] as const;
export type JobOperation = (typeof JOB_OPERATIONS)[number];
const cloudName = enumOf(['aws'], { type: 'string' });
/** RFC 3339 (checked by the service), or null / '' to clear it on update. */
const date = Type.Union([Type.String({ maxLength: 64 }), Type.Null()]);

const commonFields = {
  name: displayName,
  run_at: text(256),
  timezone: text(64),
  description: Type.String({ maxLength: 1024 }),
  disabled: Type.Boolean(),
  start_date: date,
  end_date: date,
  cckm_xks_credential_rotation_params: strict({ cloud_name: cloudName }),
  cckm_synchronization_params: strict({
    cloud_name: cloudName,
    kms: Type.Array(text(256), { maxItems: 100 }),
    synchronize_all: Type.Boolean(),
  }),
  cckm_key_rotation_params: strict({
    cloud_name: cloudName,
    rotation_after: Type.Integer({ minimum: 0, maximum: 36500 }),
    expire_in: Type.Integer(),
    expiration: Type.String({ maxLength: 64 }),
    // CCKM's rotation parameter for AWS KMS keys (refused for HYOK keys by the service, which says why).
    aws_param: strict({ retain_alias: Type.Boolean() }),
  }),
};

export const schedulerSchemas = {
  createJobConfig: strict({ ...commonFields, operation: enumOf(JOB_OPERATIONS, { type: 'string' }) }, ['name', 'operation', 'run_at']),
  /** Every field but `operation` (a configuration keeps what it runs). */
  updateJobConfig: strict(commonFields, [], { minProperties: 1 }),
  listJobConfigsQuery: query(LISTS.jobConfigs),
  listJobRunsQuery: query(LISTS.jobRuns),
  assignJobConfig: strict({ job_config_id: displayName }, ['job_config_id']),
} satisfies Record<string, RequestSchema>;

export type CreateJobConfigRequest = RequestOf<typeof schedulerSchemas.createJobConfig>;
export type UpdateJobConfigRequest = RequestOf<typeof schedulerSchemas.updateJobConfig>;
export type AssignJobConfigRequest = RequestOf<typeof schedulerSchemas.assignJobConfig>;
