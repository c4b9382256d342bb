/**
 * Request and query schemas of the synchronization-job routes (`/v1/cckm/aws/synchronization-jobs`,
 * `/v1/cckm/aws/custom-key-stores/synchronization-jobs`; README "Synchronization jobs"). Plain data.
 * `synchronize_all` excluding `kms` and `regions` is checked by the job service (one 400 naming both).
 */
import type { JsonSchema } from './json-schema';
import { LISTS } from './lists';
import { listQuery, strictObject } from './schema-parts';

const names: JsonSchema = { type: 'array', maxItems: 100, items: { type: 'string', minLength: 1, maxLength: 256 } };
/** AWS region names (`us-east-1`, `cn-north-1`, `us-gov-west-1`, ...). */
const regions: JsonSchema = { type: 'array', maxItems: 50, items: { type: 'string', pattern: '^[a-z]{2}(-[a-z]+)+-\\d{1,2}$' } };

export const jobSchemas = {
  start: strictObject({ kms: names, regions, synchronize_all: { type: 'boolean' } }),
  listQuery: listQuery(LISTS.synchronizationJobs),
} satisfies Record<string, JsonSchema>;
