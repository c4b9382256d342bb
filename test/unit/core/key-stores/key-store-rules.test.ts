/**
 * The key store field rules beyond the JSON schema, and the schemas themselves (compiled with Ajv,
 * as the request middleware does).
 */
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { awsKeySchemas } from '../../../../lambdas/contract/aws-key-schemas';
import { hyokKeySchemas, keyStoreSchemas, virtualKeySchemas } from '../../../../lambdas/contract/key-schemas';
import { ValidationError } from '../../../../lambdas/core/errors';
import {
  checkAes256,
  checkHealthCheckKey,
  checkXksProxyUriEndpoint,
  resolveConnectivity,
} from '../../../../lambdas/core/key-stores/key-store-rules';
import { xksProxyUriPath } from '../../../../lambdas/contract/xks-proxy-uri';
import { attributes, HEALTH_CHECK_ATTRIBUTES } from '../../../helpers/key-fixtures';

const aes256 = { keyType: 'AES' as const, sizeBits: 256, attributes: HEALTH_CHECK_ATTRIBUTES };

function validationMessage(call: () => unknown): string {
  try {
    call();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as Error).message;
  }
  throw new Error('expected a ValidationError');
}

describe('checkXksProxyUriEndpoint', () => {
  it.each(['https://xks.example.com', 'https://a-b.c-d.example', 'https://localhost'])('accepts %s', (value) => {
    expect(checkXksProxyUriEndpoint(value, 'f')).toBe(value);
  });

  it.each([
    'http://xks.example.com',
    'https://xks.example.com/',
    'https://xks.example.com/path',
    'https://xks.example.com:8443',
    'https://xks.example.com?x=1',
    'https://',
    'https://-bad.example.com',
    'https://bad_.example.com',
    'https://10.0.0.1',
    'xks.example.com',
    `https://${'a'.repeat(60)}.${'b'.repeat(60)}.example.com`,
  ])('refuses %s, naming the field', (value) => {
    expect(validationMessage(() => checkXksProxyUriEndpoint(value, 'aws_param.xks_proxy_uri_endpoint'))).toMatch(/^aws_param\.xks_proxy_uri_endpoint: must be https:\/\//);
  });
});

describe('resolveConnectivity', () => {
  it('requires a VPC endpoint service name for VPC_ENDPOINT_SERVICE', () => {
    expect(validationMessage(() => resolveConnectivity('VPC_ENDPOINT_SERVICE', undefined))).toContain('aws_param.xks_proxy_vpc_endpoint_service_name: is required');
  });

  it('accepts a well-formed VPC endpoint service name', () => {
    expect(resolveConnectivity('VPC_ENDPOINT_SERVICE', 'com.amazonaws.vpce.us-east-1.vpce-svc-03d5ed')).toEqual({
      xksProxyConnectivity: 'VPC_ENDPOINT_SERVICE',
      xksProxyVpcEndpointServiceName: 'com.amazonaws.vpce.us-east-1.vpce-svc-03d5ed',
    });
  });

  it('refuses a malformed name, and a name with PUBLIC_ENDPOINT', () => {
    expect(validationMessage(() => resolveConnectivity('VPC_ENDPOINT_SERVICE', 'my-service'))).toContain('must be a VPC endpoint service name');
    expect(validationMessage(() => resolveConnectivity('PUBLIC_ENDPOINT', 'com.amazonaws.vpce.us-east-1.vpce-svc-03d5ed'))).toContain('only allowed when');
  });
});

describe('checkHealthCheckKey', () => {
  it('accepts AES-256 with the six required attribute values', () => {
    expect(() => checkHealthCheckKey(aes256, 'k')).not.toThrow();
  });

  it.each([
    ['CKA_UNWRAP', attributes('CKA_ENCRYPT', 'CKA_DECRYPT', 'CKA_WRAP', 'CKA_SENSITIVE'), 'CKA_UNWRAP=true'],
    ['CKA_WRAP', attributes('CKA_ENCRYPT', 'CKA_DECRYPT', 'CKA_UNWRAP', 'CKA_SENSITIVE'), 'CKA_WRAP=true'],
    ['CKA_SENSITIVE', attributes('CKA_ENCRYPT', 'CKA_DECRYPT', 'CKA_WRAP', 'CKA_UNWRAP'), 'CKA_SENSITIVE=true'],
    ['CKA_EXTRACTABLE', { ...HEALTH_CHECK_ATTRIBUTES, CKA_EXTRACTABLE: true }, 'CKA_EXTRACTABLE=false'],
    ['CKA_ENCRYPT', attributes('CKA_DECRYPT', 'CKA_WRAP', 'CKA_UNWRAP', 'CKA_SENSITIVE'), 'CKA_ENCRYPT=true'],
  ])('refuses a key lacking %s and says so', (_name, keyAttributes, expected) => {
    const message = validationMessage(() => checkHealthCheckKey({ ...aes256, attributes: keyAttributes }, 'local_hosted_params.health_check_key_id'));
    expect(message).toContain('local_hosted_params.health_check_key_id');
    expect(message).toContain(expected);
  });

  it('lists every missing attribute at once', () => {
    const message = validationMessage(() => checkHealthCheckKey({ ...aes256, attributes: attributes('CKA_ENCRYPT', 'CKA_DECRYPT') }, 'k'));
    expect(message).toContain('CKA_SENSITIVE=true, CKA_WRAP=true, CKA_UNWRAP=true');
  });

  it('refuses keys that are not AES-256', () => {
    expect(validationMessage(() => checkAes256({ ...aes256, sizeBits: 128 }, 'k'))).toContain('AES-128');
    expect(validationMessage(() => checkAes256({ ...aes256, keyType: 'OTHER' }, 'k'))).toContain('not an AES key');
    // Keys of the other types are for upload to AWS KMS only: XKS keys stay AES-256.
    for (const keyType of ['RSA', 'EC', 'GENERIC_SECRET'] as const) {
      expect(validationMessage(() => checkAes256({ ...aes256, keyType }, 'k'))).toContain(`not an AES key (${keyType})`);
    }
  });
});

describe('xksProxyUriPath', () => {
  it('is the CCKM path ending in /kms/xks/v1', () => {
    expect(xksProxyUriPath('abc')).toBe('/api/v1/cckm/aws/xks-proxy-endpoints/abc/kms/xks/v1');
  });
});

describe('schemas', () => {
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  const valid = (schema: object, value: unknown): boolean => ajv.validate(schema, value) as boolean;
  const store = {
    name: 's',
    kms: 'a',
    region: 'us-east-1',
    local_hosted_params: { partition_id: 'p', health_check_key_id: 'k', max_credentials: 3 },
    aws_param: { xks_proxy_uri_endpoint: 'https://x.example.com' },
  };

  it('accept the seeds example bodies', () => {
    expect(valid(keyStoreSchemas.create, store)).toBe(true);
    expect(valid(keyStoreSchemas.update, { name: 'n', aws_param: { xks_proxy_uri_endpoint: 'https://y.example.com' }, local_hosted_params: { health_check_key_id: 'k' }, enable_success_audit_event: true })).toBe(true);
    expect(valid(hyokKeySchemas.create, { local_hosted_params: { source_key_id: 'v', custom_key_store_id: 's', blocked: false } })).toBe(true);
    expect(valid(virtualKeySchemas.create, { source_key_id: 'k' })).toBe(true);
    expect(valid(hyokKeySchemas.rotate, { source_key_id: 'k' })).toBe(true);
  });

  it.each([1, 21, 2.5, '5'])('refuse max_credentials %p (an integer from 2 to 20)', (max) => {
    expect(valid(keyStoreSchemas.create, { ...store, local_hosted_params: { ...store.local_hosted_params, max_credentials: max } })).toBe(false);
  });

  it('refuse unknown fields, a missing name and a bad connectivity', () => {
    expect(valid(keyStoreSchemas.create, { ...store, colour: 'red' })).toBe(false);
    const { name: _name, ...nameless } = store;
    expect(valid(keyStoreSchemas.create, nameless)).toBe(false);
    expect(valid(keyStoreSchemas.create, { ...store, aws_param: { ...store.aws_param, xks_proxy_connectivity: 'CARRIER_PIGEON' } })).toBe(false);
    expect(valid(virtualKeySchemas.update, {})).toBe(false);
    expect(valid(hyokKeySchemas.create, { local_hosted_params: { source_key_id: 'v' } })).toBe(false);
  });

  it('take list filters as strings and refuse unknown query parameters', () => {
    expect(valid(keyStoreSchemas.listQuery, { skip: '0', limit: '10', sort: 'name,-createdAt', blocked: 'true', kms: 'a' })).toBe(true);
    expect(valid(keyStoreSchemas.listQuery, { colour: 'red' })).toBe(false);
    expect(valid(awsKeySchemas.listQuery, { custom_key_store_id: 'x' })).toBe(true);
  });
});
