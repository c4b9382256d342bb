/**
 * Request and query schemas of the AWS key routes (`/v1/cckm/aws/keys`, create-hyok-key's AWS
 * parameters, link; README "AWS keys"; referenced from ./schemas.ts). Plain data. Rules across
 * fields (a policy document, a template and the shortcut lists exclude each other) live in the
 * services.
 */
import type { JsonSchema } from './json-schema';
import { LISTS } from './lists';
import { listQuery as query, strictObject as strict } from './schema-parts';

const text = (maxLength = 256, minLength = 1): JsonSchema => ({ type: 'string', minLength, maxLength });
/** IAM user/role names or ARNs, account ids: the shortcut lists of a key policy. */
const principals: JsonSchema = { type: 'array', items: text(2048), maxItems: 100 };
/** A key policy document: AWS KMS takes up to 32 KB; a JSON object, or a string holding one. */
const policyDocument: JsonSchema = { anyOf: [{ type: 'object' }, { type: 'string', maxLength: 32768 }] };
/** AWS's tag limits: keys 1-128, values 0-256 characters, 50 tags a key. */
const awsTags: JsonSchema = { type: 'array', maxItems: 50, items: strict({ TagKey: text(128), TagValue: text(256, 0) }, ['TagKey', 'TagValue']) };

export const POLICY_SHORTCUT_SCHEMAS = {
  external_accounts: principals,
  key_admins: principals,
  key_admins_roles: principals,
  key_users: principals,
  key_users_roles: principals,
  policytemplate: text(256),
} satisfies Record<string, JsonSchema>;

const LINK_AWS_PARAMS = {
  Alias: text(256),
  Description: text(8192, 0),
  Tags: awsTags,
  Policy: policyDocument,
  BypassPolicyLockoutSafetyCheck: { type: 'boolean' },
} satisfies Record<string, JsonSchema>;

/** The seeds' `aws_param` of link and create-hyok-key. */
export const linkAwsParam: JsonSchema = strict(LINK_AWS_PARAMS);

/** The AWS KMS key specs an HSM key's material can be uploaded as (CCKM's upload key types). */
const UPLOAD_KEY_SPECS = [
  'SYMMETRIC_DEFAULT', 'RSA_2048', 'RSA_3072', 'RSA_4096', 'ECC_NIST_P256', 'ECC_NIST_P384', 'ECC_NIST_P521', 'ECC_SECG_P256K1',
  'HMAC_224', 'HMAC_256', 'HMAC_384', 'HMAC_512',
];
/** RFC 3339 date and time (checked further, and for being in the future, by the service). */
const dateTime: JsonSchema = { type: 'string', minLength: 20, maxLength: 40 };

export const awsKeySchemas = {
  link: strict({ aws_param: linkAwsParam, ...POLICY_SHORTCUT_SCHEMAS }),
  /** The seed's upload-key request (the policy shortcuts exclude aws_param.Policy, as for link). */
  upload: strict(
    {
      kms: text(256),
      region: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[a-z0-9-]+$' },
      source_key_tier: text(32),
      source_key_identifier: text(256),
      KeyExpiration: { type: 'boolean' },
      aws_param: strict({
        ...LINK_AWS_PARAMS,
        CustomerMasterKeySpec: { enum: UPLOAD_KEY_SPECS },
        KeyUsage: { enum: ['ENCRYPT_DECRYPT', 'SIGN_VERIFY', 'GENERATE_VERIFY_MAC'] },
        MultiRegion: { type: 'boolean' },
        ValidTo: dateTime,
      }),
      ...POLICY_SHORTCUT_SCHEMAS,
    },
    ['kms', 'region', 'source_key_identifier'],
  ),
  importMaterial: strict({ KeyExpiration: { type: 'boolean' }, ValidTo: dateTime }),
  scheduleDeletion: strict({ days: { type: 'integer', minimum: 7, maximum: 30 } }),
  alias: strict({ alias: text(256) }, ['alias']),
  description: strict({ description: text(8192, 0) }, ['description']),
  addTags: strict(
    { tags: { type: 'array', minItems: 1, maxItems: 50, items: strict({ tag_key: text(128), tag_value: text(256, 0) }, ['tag_key', 'tag_value']) } },
    ['tags'],
  ),
  removeTags: strict({ tags: { type: 'array', minItems: 1, maxItems: 50, items: text(128) } }, ['tags']),
  policy: strict({ policy: policyDocument, bypass_policy_lockout_safety_check: { type: 'boolean' }, ...POLICY_SHORTCUT_SCHEMAS }, [], { minProperties: 1 }),
  listQuery: query(LISTS.awsKeys),
} satisfies Record<string, JsonSchema>;
