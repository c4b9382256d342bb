/**
 * AWS KMS's own field schemas, as its API reference gives them (length constraints, patterns,
 * valid values), for the `aws_param` fields of the request schemas: a value AWS KMS would refuse is
 * a 400 naming our field before anything is written or called. The value lists are the SDK's
 * enums (@aws-sdk/client-kms; test/unit/contract/aws-kms-fields.test.ts keeps them equal), copied
 * so that contract/ stays plain data. A `description` is also the 400's message
 * (runtime/middleware/validate-request.ts), so it is written as one.
 */
import { Type } from '@sinclair/typebox';
import { anyObject, strictObject, text } from './schema-parts';

/** KeySpec (CreateKey). */
export const KMS_KEY_SPECS = [
  'ECC_NIST_EDWARDS25519', 'ECC_NIST_P256', 'ECC_NIST_P384', 'ECC_NIST_P521', 'ECC_SECG_P256K1', 'HMAC_224', 'HMAC_256', 'HMAC_384', 'HMAC_512',
  'ML_DSA_44', 'ML_DSA_65', 'ML_DSA_87', 'ML_KEM_1024', 'ML_KEM_512', 'ML_KEM_768', 'RSA_2048', 'RSA_3072', 'RSA_4096', 'SM2', 'SYMMETRIC_DEFAULT',
] as const;
/** CustomerMasterKeySpec (CreateKey; KeySpec's older name). */
export const KMS_CUSTOMER_MASTER_KEY_SPECS = [
  'ECC_NIST_P256', 'ECC_NIST_P384', 'ECC_NIST_P521', 'ECC_SECG_P256K1', 'HMAC_224', 'HMAC_256', 'HMAC_384', 'HMAC_512', 'RSA_2048', 'RSA_3072', 'RSA_4096',
  'SM2', 'SYMMETRIC_DEFAULT',
] as const;
/** KeyUsageType (CreateKey KeyUsage). */
export const KMS_KEY_USAGES = ['ENCAPSULATE_DECAPSULATE', 'ENCRYPT_DECRYPT', 'GENERATE_VERIFY_MAC', 'KEY_AGREEMENT', 'SIGN_VERIFY'] as const;
/** OriginType (CreateKey Origin). */
export const KMS_ORIGINS = ['AWS_CLOUDHSM', 'AWS_KMS', 'EXTERNAL', 'EXTERNAL_KEY_STORE'] as const;
/** CustomKeyStoreType (CreateCustomKeyStore). */
export const KMS_CUSTOM_KEY_STORE_TYPES = ['AWS_CLOUDHSM', 'EXTERNAL_KEY_STORE'] as const;
/** XksProxyConnectivityType (CreateCustomKeyStore XksProxyConnectivity). */
export const KMS_XKS_PROXY_CONNECTIVITY = ['PUBLIC_ENDPOINT', 'VPC_ENDPOINT_SERVICE'] as const;

/** CreateKey Description: 0–8192 characters. */
export const kmsDescription = text(8192, 0);

/** CreateKey Policy: at most this many characters. */
export const KMS_POLICY_MAX_LENGTH = 32768;

/** CreateKey Policy: a key policy document; here a JSON object, or a string holding one (the object's size as JSON is checked by the service, core/keys/key-policy.ts). */
export const kmsPolicy = Type.Union([anyObject(), text(KMS_POLICY_MAX_LENGTH)]);

/** CreateKey and TagResource Tags: at most 50 (AWS KMS's tags per key), TagKey 1–128, TagValue 0–256 characters. */
export const kmsTags = Type.Array(strictObject({ TagKey: text(128), TagValue: text(256, 0) }, ['TagKey', 'TagValue']), { maxItems: 50 });

/**
 * CreateAlias AliasName (1–256 characters, `alias/` and then letters, digits, `/`, `_` and `-`,
 * never `alias/aws/`), given with or without its `alias/` prefix (core/keys/aws-key.ts `aliasName`):
 * so 1–250 characters after the prefix either way.
 */
export const kmsAliasName = text(256, 1, {
  pattern: '^(alias/)?[a-zA-Z0-9/_-]{1,250}$',
  // The prefix alone is no name (aliasName keeps a name that starts with it as it is).
  not: { type: 'string', pattern: '^((alias/)?aws/|alias/$)' },
  description: 'must be an alias name: alias/ (optional here) and 1 to 250 letters, digits, /, _ or -, not starting with alias/aws/ (reserved for AWS managed keys)',
});

/** CreateKey CustomKeyStoreId: 1–64 characters. */
export const kmsCustomKeyStoreId = text(64);

/** CreateKey XksKeyId: 1–128 letters, digits, `-`, `_` or `.`. */
export const kmsXksKeyId = text(128, 1, { pattern: '^[a-zA-Z0-9._-]+$' });

/** CreateCustomKeyStore XksProxyUriEndpoint: 10–128 characters (its form, `https://<fqdn>`, is checked by the service with a message saying what to give). */
export const kmsXksProxyUriEndpoint = text(128, 10);

/** CreateCustomKeyStore XksProxyUriPath: 10–128 characters (ours is always the one core/key-stores gives; the service says so). */
export const kmsXksProxyUriPath = text(128, 10);

/** CreateCustomKeyStore XksProxyVpcEndpointServiceName: 20–64 characters (its form is checked by the service). */
export const kmsXksProxyVpcEndpointServiceName = text(64, 20);

/** CreateCustomKeyStore CloudHsmClusterId: 19–24 characters (`cluster-` and 11–16 more). */
export const kmsCloudHsmClusterId = text(24, 19);

/** CreateCustomKeyStore KeyStorePassword: the `kmsuser` password, 7–32 characters. */
export const kmsKeyStorePassword = text(32, 7, { description: 'must be 7 to 32 characters (the kmsuser password of the CloudHSM cluster)' });

/** CreateCustomKeyStore TrustAnchorCertificate: 1–5000 characters (a PEM certificate; checked further by the service). */
export const kmsTrustAnchorCertificate = text(5000);

/** XksProxyAuthenticationCredentialType AccessKeyId (20–30) and RawSecretAccessKey (43–64): lengths only, as the routes refuse both with a message saying where credentials are managed. */
export const kmsXksAccessKeyId = text(30);
export const kmsXksSecretAccessKey = text(64);
