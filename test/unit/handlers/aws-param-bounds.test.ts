/**
 * AWS KMS's field bounds through the real handlers: one request per kind of bound (a string's
 * maximum and minimum length, a list's count, a list item's length, a pattern, a reserved name,
 * a value list) answers the CCKM 400 naming the field, and changes nothing.
 */
import { handler as addAwsKeyTags } from '../../../lambdas/handlers/add-aws-key-tags';
import { handler as createHyokKey } from '../../../lambdas/handlers/create-hyok-key';
import { handler as createKeyStore } from '../../../lambdas/handlers/create-key-store';
import { handler as startAwsKeySynchronization } from '../../../lambdas/handlers/start-aws-key-synchronization';
import { handler as uploadAwsKey } from '../../../lambdas/handlers/upload-aws-key';
import type { ApiHandler } from '../../../lambdas/runtime/api-handler';
import { loadConfig } from '../../../lambdas/runtime/config';
import { createDependencies, setDependencies } from '../../../lambdas/runtime/dependencies';
import { useLocalAdapterSet } from '../../../lambdas/local/local-adapter-set';
import { apiEvent, lambdaContext, parseResponse, TestTokens } from '../../helpers/api-events';
import { MemoryStateStore } from '../../helpers/memory-state-store';

useLocalAdapterSet();

const tokens = TestTokens.create();
let state: MemoryStateStore;

beforeEach(() => {
  state = new MemoryStateStore();
  setDependencies(createDependencies(loadConfig({ KEY_MANAGER_MODE: 'local', STATE_TABLE_NAME: 'unused' }), { tokens: tokens.verifier, state }));
  jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
});

afterEach(() => jest.restoreAllMocks());
afterAll(() => setDependencies(undefined));

const x = (length: number): string => 'x'.repeat(length);
const hyokKey = (aws_param: Record<string, unknown>) => ({ local_hosted_params: { source_key_id: 'v-1', custom_key_store_id: 'ks-1' }, aws_param });
const store = (aws_param: Record<string, unknown>) => ({ name: 's', kms: 'a', region: 'us-east-1', aws_param: { xks_proxy_uri_endpoint: 'https://xks.example.com', ...aws_param } });

it.each<[string, string, ApiHandler, Record<string, unknown>, string]>([
  ['a string over its maximum', 'CreateHyokKey', createHyokKey, hyokKey({ Description: x(8193) }), 'aws_param.Description: must NOT have more than 8192 characters'],
  ['a string under its minimum', 'CreateKeyStore', createKeyStore, store({ xks_proxy_uri_endpoint: 'https://x' }), 'aws_param.xks_proxy_uri_endpoint: must NOT have fewer than 10 characters'],
  ['a rule said in words', 'CreateKeyStore', createKeyStore, store({ custom_key_store_type: 'AWS_CLOUDHSM', key_store_password: x(33) }), 'aws_param.key_store_password: must be 7 to 32 characters (the kmsuser password of the CloudHSM cluster)'],
  ['too many list items', 'CreateHyokKey', createHyokKey, hyokKey({ Tags: Array.from({ length: 51 }, (_, i) => ({ TagKey: `k${i}`, TagValue: 'v' })) }), 'aws_param.Tags: must NOT have more than 50 items'],
  ['a field of a list item', 'CreateHyokKey', createHyokKey, hyokKey({ Tags: [{ TagKey: 'team', TagValue: 'blue' }, { TagKey: x(129), TagValue: 'v' }] }), 'aws_param.Tags[1].TagKey: must NOT have more than 128 characters'],
  ['a pattern', 'CreateHyokKey', createHyokKey, hyokKey({ Alias: 'alias/my key' }), expect.stringMatching(/^aws_param\.Alias: must be an alias name: alias\/ \(optional here\) and 1 to 250 letters/) as unknown as string],
  ['a reserved name', 'CreateHyokKey', createHyokKey, hyokKey({ Alias: 'alias/aws/s3' }), expect.stringMatching(/^aws_param\.Alias: .*not starting with alias\/aws\/ \(reserved for AWS managed keys\)$/) as unknown as string],
  ['a value AWS KMS does not have', 'UploadAwsKey', uploadAwsKey, { kms: 'a', region: 'us-east-1', source_key_identifier: 'k', aws_param: { KeyUsage: 'ENCRYPT_ONLY' } }, 'aws_param.KeyUsage: must be one of "ENCRYPT_DECRYPT", "SIGN_VERIFY", "GENERATE_VERIFY_MAC"'],
  ['too many names in a string list', 'StartAwsKeySynchronization', startAwsKeySynchronization, { kms: Array.from({ length: 101 }, (_, i) => `c${i}`) }, 'kms: must NOT have more than 100 items'],
  ['a name too long in a string list', 'StartAwsKeySynchronization', startAwsKeySynchronization, { kms: ['a', x(257)] }, 'kms[1]: must NOT have more than 256 characters'],
])('%s (%s): 400 naming the field, nothing changed', async (_kind, operation, handler, body, message) => {
  const response = parseResponse(await handler(apiEvent(operation, { token: await tokens.admin(), body }), lambdaContext()));
  expect(response).toEqual({ statusCode: 400, body: { code: 400, codeDesc: expect.stringMatching(/^NCERRInvalidParamValue: /), message } });
  expect(response.body.codeDesc).toBe(`NCERRInvalidParamValue: ${response.body.message}`);
  expect(state.transactions).toEqual([]);
});

it('an AWS key route names the list item too (add-tags)', async () => {
  const response = parseResponse(
    await addAwsKeyTags(apiEvent('AddAwsKeyTags', { params: { id: 'k-1' }, token: await tokens.admin(), body: { tags: [{ tag_key: 'k', tag_value: x(257) }] } }), lambdaContext()),
  );
  expect(response).toEqual({ statusCode: 400, body: expect.objectContaining({ message: 'tags[0].tag_value: must NOT have more than 256 characters' }) });
  expect(state.transactions).toEqual([]);
});
