/**
 * Request and query schemas of the AWS key routes (`/v1/cckm/aws/keys`, create-hyok-key's AWS
 * parameters, link; README "AWS keys"; referenced from ./schemas.ts). TypeBox (schema-parts.ts), request types beside them. Rules across
 * fields (a policy document, a template and the shortcut lists exclude each other) live in the
 * services.
 */
import { Type } from '@sinclair/typebox';
import type { RequestOf, RequestSchema } from './json-schema';
import { KMS_CUSTOMER_MASTER_KEY_SPECS, KMS_KEY_USAGES, kmsAliasName, kmsDescription, kmsPolicy, kmsTags } from './aws-kms-fields';
import { LISTS } from './lists';
import { enumOf, listQuery as query, strictObject as strict, text } from './schema-parts';

/** IAM user/role names or ARNs, account ids: the shortcut lists of a key policy. */
const principals = Type.Array(text(2048), { maxItems: 100 });

export const POLICY_SHORTCUT_SCHEMAS = {
  external_accounts: principals,
  key_admins: principals,
  key_admins_roles: principals,
  key_users: principals,
  key_users_roles: principals,
  policytemplate: text(256),
};

/** AWS KMS's CreateKey and CreateAlias fields (aws-kms-fields.ts). */
const LINK_AWS_PARAMS = {
  Alias: kmsAliasName,
  Description: kmsDescription,
  Tags: kmsTags,
  Policy: kmsPolicy,
  BypassPolicyLockoutSafetyCheck: Type.Boolean(),
};

/** The seeds' `aws_param` of link and create-hyok-key. */
export const linkAwsParam = strict(LINK_AWS_PARAMS);

/** The AWS KMS key specs an HSM key's material can be uploaded as (CCKM's upload key types). */
const UPLOAD_KEY_SPECS = [
  'SYMMETRIC_DEFAULT', 'RSA_2048', 'RSA_3072', 'RSA_4096', 'ECC_NIST_P256', 'ECC_NIST_P384', 'ECC_NIST_P521', 'ECC_SECG_P256K1',
  'HMAC_224', 'HMAC_256', 'HMAC_384', 'HMAC_512',
] as const satisfies readonly (typeof KMS_CUSTOMER_MASTER_KEY_SPECS)[number][];
/** The key usages an uploaded key may have (AWS KMS's KeyUsageType but KEY_AGREEMENT and ENCAPSULATE_DECAPSULATE, which no upload key type takes). */
const UPLOAD_KEY_USAGES = ['ENCRYPT_DECRYPT', 'SIGN_VERIFY', 'GENERATE_VERIFY_MAC'] as const satisfies readonly (typeof KMS_KEY_USAGES)[number][];
/** RFC 3339 date and time (checked further, and for being in the future, by the service). */
const dateTime = text(40, 20);

export const awsKeySchemas = {
  link: strict({ aws_param: linkAwsParam, ...POLICY_SHORTCUT_SCHEMAS }),
  /** The seed's upload-key request (the policy shortcuts exclude aws_param.Policy, as for link). */
  upload: strict(
    {
      kms: text(256),
      region: text(64, 1, { pattern: '^[a-z0-9-]+$' }),
      source_key_tier: text(32),
      /** The HSM source key's id or label. */
      source_key_identifier: text(256),
      KeyExpiration: Type.Boolean(),
      aws_param: strict({
        ...LINK_AWS_PARAMS,
        CustomerMasterKeySpec: enumOf(UPLOAD_KEY_SPECS),
        KeyUsage: enumOf(UPLOAD_KEY_USAGES),
        MultiRegion: Type.Boolean(),
        ValidTo: dateTime,
      }),
      ...POLICY_SHORTCUT_SCHEMAS,
    },
    ['kms', 'region', 'source_key_identifier'],
  ),
  importMaterial: strict({ KeyExpiration: Type.Boolean(), ValidTo: dateTime }),
  scheduleDeletion: strict({ days: Type.Integer({ minimum: 7, maximum: 30 }) }),
  alias: strict({ alias: kmsAliasName }, ['alias']),
  description: strict({ description: kmsDescription }, ['description']),
  addTags: strict(
    { tags: Type.Array(strict({ tag_key: text(128), tag_value: text(256, 0) }, ['tag_key', 'tag_value']), { minItems: 1, maxItems: 50 }) },
    ['tags'],
  ),
  removeTags: strict({ tags: Type.Array(text(128), { minItems: 1, maxItems: 50 }) }, ['tags']),
  policy: strict({ policy: kmsPolicy, bypass_policy_lockout_safety_check: Type.Boolean(), ...POLICY_SHORTCUT_SCHEMAS }, [], { minProperties: 1 }),
  listQuery: query(LISTS.awsKeys),
} satisfies Record<string, RequestSchema>;

export type LinkHyokKeyRequest = RequestOf<typeof awsKeySchemas.link>;
export type UploadAwsKeyRequest = RequestOf<typeof awsKeySchemas.upload>;
export type ImportAwsKeyMaterialRequest = RequestOf<typeof awsKeySchemas.importMaterial>;
export type ScheduleAwsKeyDeletionRequest = RequestOf<typeof awsKeySchemas.scheduleDeletion>;
export type AwsKeyAliasRequest = RequestOf<typeof awsKeySchemas.alias>;
export type UpdateAwsKeyDescriptionRequest = RequestOf<typeof awsKeySchemas.description>;
export type AddAwsKeyTagsRequest = RequestOf<typeof awsKeySchemas.addTags>;
export type RemoveAwsKeyTagsRequest = RequestOf<typeof awsKeySchemas.removeTags>;
export type UpdateAwsKeyPolicyRequest = RequestOf<typeof awsKeySchemas.policy>;
/** The `aws_param` of link and create-hyok-key (and create-aws-key in a CloudHSM store). */
export type LinkAwsParam = RequestOf<typeof linkAwsParam>;
