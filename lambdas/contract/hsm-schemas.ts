/**
 * Request and query schemas of the HSM partition and HSM source key routes (referenced from
 * ./schemas.ts). TypeBox (schema-parts.ts), request types beside them.
 */
import { GCM_IV_CONVENTIONS, HSM_TYPES, KEY_ATTRIBUTE_NAMES } from './hsm';
import { EC_CURVES, GENERATION_MECHANISMS, KEY_SIZES } from './hsm-key-types';
import { type Static, Type } from '@sinclair/typebox';
import type { RequestSchema } from './json-schema';
import { LISTS } from './lists';
import { displayName as name, listQuery as query, enumOf, strictObject as strict, text } from './schema-parts';

/** CK_TOKEN_INFO.label is 32 bytes, blank-padded. */
const tokenLabel = text(32, 1, { pattern: '^[\\x20-\\x7e]*[\\x21-\\x7e]$' });
/** A partition PIN or password; never echoed in any response or message. */
const pin = text(255);
const description = Type.String({ maxLength: 1024 });
/** Who makes AES-GCM IVs on this partition (contract/hsm.ts GcmIvConvention); default per HSM type. */
const gcmIvConvention = enumOf(GCM_IV_CONVENTIONS);

export const hsmSchemas = {
  createPartition: strict({ name, hsm_type: enumOf(HSM_TYPES), token_label: tokenLabel, pin, description, gcm_iv_convention: gcmIvConvention }, ['name', 'hsm_type', 'token_label', 'pin']),
  updatePartition: strict({ token_label: tokenLabel, pin, description, gcm_iv_convention: gcmIvConvention }, [], { minProperties: 1 }),
  listPartitionsQuery: query(LISTS.hsmPartitions),
  createKey: strict(
    {
      partition_id: text(256),
      /** CKA_LABEL. */
      label: text(128, 1, { pattern: '^[\\x20-\\x7e]+$' }),
      mechanism: enumOf(Object.values(GENERATION_MECHANISMS)),
      /** Bits; which sizes a mechanism takes is checked by the service (hsm-key-types.ts). */
      size: enumOf([...new Set(Object.values(KEY_SIZES).flat())].sort((a, b) => a - b)),
      curve: enumOf(EC_CURVES),
      attributes: Type.Array(enumOf(KEY_ATTRIBUTE_NAMES), { uniqueItems: true, maxItems: KEY_ATTRIBUTE_NAMES.length }),
      /** The owning account container, name or id. */
      kms_id: text(256),
    },
    ['partition_id', 'label', 'attributes'],
  ),
  updateKey: strict({ kms_id: text(256) }, ['kms_id']),
  listKeysQuery: query(LISTS.hsmKeys),
} satisfies Record<string, RequestSchema>;

export type CreateHsmPartitionRequest = Static<typeof hsmSchemas.createPartition>;
export type UpdateHsmPartitionRequest = Static<typeof hsmSchemas.updatePartition>;
export type CreateHsmKeyRequest = Static<typeof hsmSchemas.createKey>;
export type UpdateHsmKeyRequest = Static<typeof hsmSchemas.updateKey>;
