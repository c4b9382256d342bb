/**
 * The `aws_param` fields take AWS KMS's own field schemas (lambdas/contract/aws-kms-fields.ts):
 * the value lists are the SDK's enums, each bound takes its limit and refuses one more, and every
 * string and every list anywhere in the request schemas is bounded.
 */
import { CustomerMasterKeySpec, CustomKeyStoreType, KeySpec, KeyUsageType, OriginType, XksProxyConnectivityType } from '@aws-sdk/client-kms';
import Ajv from 'ajv';
import type { TSchema } from '@sinclair/typebox';
import {
  KMS_CUSTOM_KEY_STORE_TYPES, KMS_CUSTOMER_MASTER_KEY_SPECS, KMS_KEY_SPECS, KMS_KEY_USAGES, KMS_ORIGINS, KMS_XKS_PROXY_CONNECTIVITY,
} from '../../../lambdas/contract/aws-kms-fields';
import { awsKeySchemas, linkAwsParam } from '../../../lambdas/contract/aws-key-schemas';
import { jobSchemas } from '../../../lambdas/contract/job-schemas';
import { keyStoreSchemas } from '../../../lambdas/contract/key-schemas';
import { routes } from '../../../lambdas/contract/routes';

const ajv = new Ajv({ allErrors: false, strict: true });
const accepts = (schema: TSchema, value: unknown): boolean => ajv.validate(schema, value) as boolean;
const x = (length: number): string => 'x'.repeat(length);

describe("AWS KMS's value lists", () => {
  it.each([
    ['KeySpec', KMS_KEY_SPECS, KeySpec],
    ['CustomerMasterKeySpec', KMS_CUSTOMER_MASTER_KEY_SPECS, CustomerMasterKeySpec],
    ['KeyUsageType', KMS_KEY_USAGES, KeyUsageType],
    ['OriginType', KMS_ORIGINS, OriginType],
    ['CustomKeyStoreType', KMS_CUSTOM_KEY_STORE_TYPES, CustomKeyStoreType],
    ['XksProxyConnectivityType', KMS_XKS_PROXY_CONNECTIVITY, XksProxyConnectivityType],
  ] as const)('%s is the SDK enum', (_name, ours, sdk) => {
    expect([...ours].sort()).toEqual(Object.values(sdk).sort());
  });
});

describe('aws_param of link, create-hyok-key and create-aws-key (CreateKey, CreateAlias)', () => {
  const param = (fields: Record<string, unknown>): boolean => accepts(linkAwsParam, fields);

  it('Description: 0 to 8192 characters', () => {
    expect(param({ Description: '' })).toBe(true);
    expect(param({ Description: x(8192) })).toBe(true);
    expect(param({ Description: x(8193) })).toBe(false);
  });

  it('Tags: at most 50, TagKey 1 to 128 and TagValue 0 to 256 characters', () => {
    const tags = (n: number) => Array.from({ length: n }, (_, i) => ({ TagKey: `k${i}`, TagValue: '' }));
    expect(param({ Tags: tags(50) })).toBe(true);
    expect(param({ Tags: tags(51) })).toBe(false);
    expect(param({ Tags: [{ TagKey: x(128), TagValue: x(256) }] })).toBe(true);
    expect(param({ Tags: [{ TagKey: x(129), TagValue: '' }] })).toBe(false);
    expect(param({ Tags: [{ TagKey: '', TagValue: '' }] })).toBe(false);
    expect(param({ Tags: [{ TagKey: 'k', TagValue: x(257) }] })).toBe(false);
    expect(param({ Tags: [{ TagKey: 'k' }] })).toBe(false);
  });

  it('Policy: a JSON object, or a string of at most 32768 characters', () => {
    expect(param({ Policy: { Version: '2012-10-17' } })).toBe(true);
    expect(param({ Policy: x(32768) })).toBe(true);
    expect(param({ Policy: x(32769) })).toBe(false);
    expect(param({ Policy: '' })).toBe(false);
    expect(param({ Policy: 7 })).toBe(false);
  });

  it.each(['alias/demo-hyok', 'demo-hyok', 'alias/team/a_b-c', `alias/${x(250)}`, x(250), 'alias/alias/x'])('Alias %s: an alias name', (alias) => {
    expect(param({ Alias: alias })).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['the prefix alone', 'alias/'],
    ['251 characters after the prefix', `alias/${x(251)}`],
    ['251 characters without it', x(251)],
    ['AWS managed keys\' prefix', 'alias/aws/s3'],
    ['AWS managed keys\' prefix, without alias/', 'aws/s3'],
    ['a space', 'alias/my key'],
    ['a dot', 'alias/my.key'],
  ])('Alias: refuses %s', (_what, alias) => {
    expect(param({ Alias: alias })).toBe(false);
    expect(accepts(awsKeySchemas.alias, { alias })).toBe(false);
  });
});

describe('aws_param of upload-key', () => {
  const upload = (aws_param: Record<string, unknown>): boolean => accepts(awsKeySchemas.upload, { kms: 'a', region: 'us-east-1', source_key_identifier: 'k', aws_param });

  it("takes AWS KMS's key specs and usages an upload can have, and nothing else", () => {
    expect(upload({ CustomerMasterKeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY', MultiRegion: true })).toBe(true);
    expect(upload({ CustomerMasterKeySpec: 'SM2' })).toBe(false);
    expect(upload({ CustomerMasterKeySpec: 'RSA_1024' })).toBe(false);
    expect(upload({ KeyUsage: 'KEY_AGREEMENT' })).toBe(false);
    expect(upload({ MultiRegion: 'yes' })).toBe(false);
  });
});

describe('aws_param of the key store routes (CreateCustomKeyStore, UpdateCustomKeyStore)', () => {
  const create = (aws_param: Record<string, unknown>): boolean =>
    accepts(keyStoreSchemas.create, { name: 's', kms: 'a', region: 'us-east-1', aws_param: { xks_proxy_uri_endpoint: 'https://xks.example.com', ...aws_param } });

  it.each([
    ['xks_proxy_uri_endpoint', 10, 128],
    ['xks_proxy_uri_path', 10, 128],
    ['xks_proxy_vpc_endpoint_service_name', 20, 64],
    ['cloud_hsm_cluster_id', 19, 24],
    ['key_store_password', 7, 32],
    ['trust_anchor_certificate', 1, 5000],
  ])('%s: %i to %i characters', (field, min, max) => {
    expect(create({ [field]: x(min) })).toBe(true);
    expect(create({ [field]: x(max) })).toBe(true);
    expect(create({ [field]: x(min - 1) })).toBe(false);
    expect(create({ [field]: x(max + 1) })).toBe(false);
  });

  it('custom_key_store_type and xks_proxy_connectivity: the SDK values only', () => {
    expect(create({ custom_key_store_type: 'EXTERNAL_KEY_STORE', xks_proxy_connectivity: 'VPC_ENDPOINT_SERVICE' })).toBe(true);
    expect(create({ custom_key_store_type: 'OTHER' })).toBe(false);
    expect(create({ xks_proxy_connectivity: 'CARRIER_PIGEON' })).toBe(false);
  });

  it('update and connect: the same bounds; the credential fields at most AWS KMS\'s lengths', () => {
    expect(accepts(keyStoreSchemas.update, { aws_param: { xks_proxy_uri_endpoint: x(129) } })).toBe(false);
    expect(accepts(keyStoreSchemas.update, { aws_param: { access_key_id: x(31) } })).toBe(false);
    expect(accepts(keyStoreSchemas.update, { aws_param: { secret_access_key: x(65) } })).toBe(false);
    expect(accepts(keyStoreSchemas.connect, { key_store_password: x(6) })).toBe(false);
    expect(accepts(keyStoreSchemas.link, { aws_param: { xks_proxy_uri_endpoint: x(129) } })).toBe(false);
  });
});

describe('string lists', () => {
  it('synchronization jobs: at most 100 containers and 50 regions, each name bounded', () => {
    expect(accepts(jobSchemas.start, { kms: Array.from({ length: 100 }, (_, i) => `c${i}`), regions: ['us-east-1'] })).toBe(true);
    expect(accepts(jobSchemas.start, { kms: Array.from({ length: 101 }, (_, i) => `c${i}`) })).toBe(false);
    expect(accepts(jobSchemas.start, { kms: [x(257)] })).toBe(false);
    expect(accepts(jobSchemas.start, { regions: [`us-${x(60)}-1`] })).toBe(false);
  });
});

/** Every place in `schema` where a string has no maximum length, a list no maximum count, or an object any properties. */
function unbounded(schema: unknown, at: string): string[] {
  if (schema === null || typeof schema !== 'object') return [];
  const s = schema as Record<string, unknown>;
  const found: string[] = [];
  if (s.type === 'string' && s.maxLength === undefined && s.enum === undefined) found.push(`${at}: a string without maxLength`);
  if (s.type === 'array' && s.maxItems === undefined) found.push(`${at}: a list without maxItems`);
  if (s.type === 'object' && s.properties === undefined) found.push(`${at}: an object of any shape`);
  for (const [keyword, value] of Object.entries(s)) {
    if (keyword === 'properties') for (const [name, sub] of Object.entries(value as Record<string, unknown>)) found.push(...unbounded(sub, `${at}.${name}`));
    else if (keyword === 'items') found.push(...unbounded(value, `${at}[]`));
    else if (keyword === 'anyOf') (value as unknown[]).forEach((sub) => found.push(...unbounded(sub, at)));
  }
  return found;
}

describe('every request schema', () => {
  it('bounds every string and every list; the only free-form objects are key policy documents (their size checked by the service)', () => {
    const found = routes.flatMap((route) => [...unbounded(route.requestSchema, route.operation), ...unbounded(route.querySchema, `${route.operation}?`)]);
    expect([...new Set(found)].sort()).toEqual(
      [
        'CreateCloudHsmKey.aws_param.Policy: an object of any shape',
        'CreateHyokKey.aws_param.Policy: an object of any shape',
        'LinkHyokKey.aws_param.Policy: an object of any shape',
        'UpdateAwsKeyPolicy.policy: an object of any shape',
        'UploadAwsKey.aws_param.Policy: an object of any shape',
      ].sort(),
    );
  });
});
