/**
 * Request and query schemas of the synchronization-job routes (`/v1/cckm/aws/synchronization-jobs`,
 * `/v1/cckm/aws/custom-key-stores/synchronization-jobs`; README "Synchronization jobs"). TypeBox (schema-parts.ts), request types beside them.
 * `synchronize_all` excluding `kms` and `regions` is checked by the job service (one 400 naming both).
 */
import { Type } from '@sinclair/typebox';
import type { RequestOf, RequestSchema } from './json-schema';
import { LISTS } from './lists';
import { listQuery, strictObject, text } from './schema-parts';

const names = Type.Array(text(256), { maxItems: 100 });
/** AWS region names (`us-east-1`, `cn-north-1`, `us-gov-west-1`, ...). */
const regions = Type.Array(text(64, 1, { pattern: '^[a-z]{2}(-[a-z]+)+-\\d{1,2}$' }), { maxItems: 50 });

export const jobSchemas = {
  start: strictObject({ kms: names, regions, synchronize_all: Type.Boolean() }),
  listQuery: listQuery(LISTS.synchronizationJobs),
} satisfies Record<string, RequestSchema>;

export type StartSynchronizationJobRequest = RequestOf<typeof jobSchemas.start>;
