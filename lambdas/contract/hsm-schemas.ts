/**
 * Request and query schemas of the HSM partition and HSM source key routes (referenced from
 * ./schemas.ts). TypeBox (schema-parts.ts), request types beside them.
 */
import { GCM_IV_CONVENTIONS, HSM_TYPES, KEY_ATTRIBUTE_NAMES, MAX_PARTITION_MEMBERS, PKCS11_CALL_MODES } from './hsm';
import { EC_CURVES, GENERATION_MECHANISMS, KEY_SIZES } from './hsm-key-types';
import { Type } from '@sinclair/typebox';
import type { RequestOf, RequestSchema } from './json-schema';
import { LISTS } from './lists';
import { displayName as name, listQuery as query, enumOf, strictObject as strict, text } from './schema-parts';

/** CK_TOKEN_INFO.label is 32 bytes, blank-padded. */
const tokenLabel = text(32, 1, { pattern: '^[\\x20-\\x7e]*[\\x21-\\x7e]$' });
/** A partition PIN or password; never echoed in any response or message. */
const pin = text(255);
const description = Type.String({ maxLength: 1024 });
/** Who makes AES-GCM IVs on this partition (contract/hsm.ts GcmIvConvention); default per HSM type. */
const gcmIvConvention = enumOf(GCM_IV_CONVENTIONS);
/** Where the partition's PKCS#11 calls run (contract/hsm.ts Pkcs11CallMode); default per HSM type. */
const pkcs11CallMode = enumOf(PKCS11_CALL_MODES);

/**
 * The HSMs the partition reaches, each checked on its own by the proxy's deep health check
 * (contract/hsm.ts PartitionMember); a repeated id or token label is refused by the service.
 */
const members = Type.Array(strict({ id: text(64, 1, { pattern: '^[\\x21-\\x7e]+$' }), token_label: tokenLabel }, ['id', 'token_label']), {
  minItems: 1,
  maxItems: MAX_PARTITION_MEMBERS,
});

/**
 * The AWS CloudHSM cluster a `cloudhsm` partition is (CloudHSMv2 ClusterId): the proxy's deep health
 * check then lists the cluster's HSMs from DescribeClusters instead of `members`.
 */
const cloudHsmClusterId = text(24, 19, { pattern: '^cluster-[2-7a-zA-Z]{11,16}$', description: 'must be a CloudHSM cluster id like cluster-1a23b4cdefg (DescribeClusters ClusterId)' });

export const hsmSchemas = {
  createPartition: strict({ name, hsm_type: enumOf(HSM_TYPES), token_label: tokenLabel, pin, description, gcm_iv_convention: gcmIvConvention, pkcs11_call_mode: pkcs11CallMode, members, cloudhsm_cluster_id: cloudHsmClusterId }, ['name', 'hsm_type', 'token_label', 'pin']),
  updatePartition: strict({ token_label: tokenLabel, pin, description, gcm_iv_convention: gcmIvConvention, pkcs11_call_mode: pkcs11CallMode, members, cloudhsm_cluster_id: cloudHsmClusterId }, [], { minProperties: 1 }),
  listPartitionsQuery: query(LISTS.hsmPartitions),
  createKey: strict(
    {
      partition_id: text(256),
      /** CKA_LABEL. */
      label: text(128, 1, { pattern: '^[\\x20-\\x7e]+$' }),
      /** @default CKM_AES_KEY_GEN */
      mechanism: enumOf(Object.values(GENERATION_MECHANISMS)),
      /** Bits: AES 256, RSA 2048/3072/4096, generic secret 224/256/384/512 (which sizes a mechanism takes is checked by the service, hsm-key-types.ts). @default 256 for AES */
      size: enumOf([...new Set(Object.values(KEY_SIZES).flat())].sort((a, b) => a - b)),
      /** EC keys: P-256, P-384, P-521 or secp256k1. */
      curve: enumOf(EC_CURVES),
      /**
       * These boolean attributes are set true; every other one false (CKA_TOKEN is always true).
       * CKA_EXTRACTABLE needs CKA_SENSITIVE. On a key pair CKA_ENCRYPT, CKA_VERIFY and CKA_WRAP are the public key's.
       */
      attributes: Type.Array(enumOf(KEY_ATTRIBUTE_NAMES), { uniqueItems: true, maxItems: KEY_ATTRIBUTE_NAMES.length }),
      /** The owning account container (name or id); unset: only admins may reference the key until one does. */
      kms_id: text(256),
    },
    ['partition_id', 'label', 'attributes'],
  ),
  /** The owning account container (name or id); a key in use keeps its owner. */
  updateKey: strict({ kms_id: text(256) }, ['kms_id']),
  listKeysQuery: query(LISTS.hsmKeys),
} satisfies Record<string, RequestSchema>;

export type CreateHsmPartitionRequest = RequestOf<typeof hsmSchemas.createPartition>;
export type UpdateHsmPartitionRequest = RequestOf<typeof hsmSchemas.updatePartition>;
export type CreateHsmKeyRequest = RequestOf<typeof hsmSchemas.createKey>;
export type UpdateHsmKeyRequest = RequestOf<typeof hsmSchemas.updateKey>;
