/**
 * Request and query schemas of the HSM partition and HSM source key routes (referenced from
 * ./schemas.ts). Plain data.
 */
import { GCM_IV_CONVENTIONS, HSM_TYPES, KEY_ATTRIBUTE_NAMES } from './hsm';
import { EC_CURVES, GENERATION_MECHANISMS, KEY_SIZES } from './hsm-key-types';
import type { JsonSchema } from './json-schema';
import { LISTS } from './lists';
import { displayName as name, listQuery as query, strictObject as strict } from './schema-parts';

/** CK_TOKEN_INFO.label is 32 bytes, blank-padded. */
const tokenLabel: JsonSchema = { type: 'string', minLength: 1, maxLength: 32, pattern: '^[\\x20-\\x7e]*[\\x21-\\x7e]$' };
/** A partition PIN or password; never echoed in any response or message. */
const pin: JsonSchema = { type: 'string', minLength: 1, maxLength: 255 };
const description: JsonSchema = { type: 'string', maxLength: 1024 };
/** Who makes AES-GCM IVs on this partition (contract/hsm.ts GcmIvConvention); default per HSM type. */
const gcmIvConvention: JsonSchema = { enum: [...GCM_IV_CONVENTIONS] };

export const hsmSchemas = {
  createPartition: strict({ name, hsm_type: { enum: [...HSM_TYPES] }, token_label: tokenLabel, pin, description, gcm_iv_convention: gcmIvConvention }, ['name', 'hsm_type', 'token_label', 'pin']),
  updatePartition: strict({ token_label: tokenLabel, pin, description, gcm_iv_convention: gcmIvConvention }, [], { minProperties: 1 }),
  listPartitionsQuery: query(LISTS.hsmPartitions),
  createKey: strict(
    {
      partition_id: { type: 'string', minLength: 1, maxLength: 256 },
      /** CKA_LABEL. */
      label: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[\\x20-\\x7e]+$' },
      mechanism: { enum: Object.values(GENERATION_MECHANISMS) },
      /** Bits; which sizes a mechanism takes is checked by the service (hsm-key-types.ts). */
      size: { enum: [...new Set(Object.values(KEY_SIZES).flat())].sort((a, b) => a - b) },
      curve: { enum: [...EC_CURVES] },
      attributes: { type: 'array', uniqueItems: true, maxItems: KEY_ATTRIBUTE_NAMES.length, items: { enum: [...KEY_ATTRIBUTE_NAMES] } },
      /** The owning account container, name or id. */
      kms_id: { type: 'string', minLength: 1, maxLength: 256 },
    },
    ['partition_id', 'label', 'attributes'],
  ),
  updateKey: strict({ kms_id: { type: 'string', minLength: 1, maxLength: 256 } }, ['kms_id']),
  listKeysQuery: query(LISTS.hsmKeys),
} satisfies Record<string, JsonSchema>;
