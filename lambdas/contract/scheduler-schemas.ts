/**
 * Request and query schemas of the scheduler routes (`/v1/scheduler/job-configs`, `/jobs`) and of
 * the schedule assignments on key stores and AWS keys (README "Schedules"; referenced from
 * ./schemas.ts). Plain data: the cron expression, the dates' order and the params' meaning are
 * checked by the service (core/schedules/job-config.ts).
 */
import type { JsonSchema } from './json-schema';
import { LISTS } from './lists';
import { displayName, listQuery as query, strictObject as strict } from './schema-parts';

const OPERATIONS = ['cckm_xks_credential_rotation', 'cckm_synchronization', 'cckm_key_rotation'];
const cloudName: JsonSchema = { type: 'string', enum: ['aws'] };
/** RFC 3339 (checked by the service), or null / '' to clear it on update. */
const date: JsonSchema = { anyOf: [{ type: 'string', maxLength: 64 }, { type: 'null' }] };

const commonFields: Record<string, JsonSchema> = {
  name: displayName,
  run_at: { type: 'string', minLength: 1, maxLength: 256 },
  timezone: { type: 'string', minLength: 1, maxLength: 64 },
  description: { type: 'string', maxLength: 1024 },
  disabled: { type: 'boolean' },
  start_date: date,
  end_date: date,
  cckm_xks_credential_rotation_params: strict({ cloud_name: cloudName }),
  cckm_synchronization_params: strict({
    cloud_name: cloudName,
    kms: { type: 'array', maxItems: 100, items: { type: 'string', minLength: 1, maxLength: 256 } },
    synchronize_all: { type: 'boolean' },
  }),
  cckm_key_rotation_params: strict({
    cloud_name: cloudName,
    rotation_after: { type: 'integer', minimum: 0, maximum: 36500 },
    expire_in: { type: 'integer' },
    expiration: { type: 'string' },
    aws_param: { type: 'object' },
  }),
};

export const schedulerSchemas = {
  createJobConfig: strict({ ...commonFields, operation: { type: 'string', enum: OPERATIONS } }, ['name', 'operation', 'run_at']),
  /** Every field but `operation` (a configuration keeps what it runs). */
  updateJobConfig: strict(commonFields, [], { minProperties: 1 }),
  listJobConfigsQuery: query(LISTS.jobConfigs),
  listJobRunsQuery: query(LISTS.jobRuns),
  assignJobConfig: strict({ job_config_id: displayName }, ['job_config_id']),
} satisfies Record<string, JsonSchema>;
