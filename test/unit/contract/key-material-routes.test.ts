/**
 * The BYOK routes declare every AWS KMS action and the HSM agent they use (the CDK grants exactly
 * `needs`, so an action missing here is an AccessDenied on AWS that local mode would not show).
 */
import { routeFor } from '../../../lambdas/contract/routes';

const READS_KMS_KEY = ['DescribeKey', 'ListAliases', 'ListResourceTags', 'GetKeyPolicy'];

it.each([
  ['UploadAwsKey', true, ['CreateKey', 'GetParametersForImport', 'ImportKeyMaterial', 'CreateAlias', 'ScheduleKeyDeletion', ...READS_KMS_KEY]],
  ['ImportAwsKeyMaterial', true, ['GetParametersForImport', 'ImportKeyMaterial', ...READS_KMS_KEY]],
  ['DeleteAwsKeyMaterial', undefined, ['DeleteImportedKeyMaterial', ...READS_KMS_KEY]],
] as const)('%s needs the HSM agent (%s) and the AWS KMS actions it calls', (operation, hsmAgent, actions) => {
  const { needs } = routeFor(operation);

  expect(needs.hsmAgent).toBe(hsmAgent);
  expect([...(needs.awsKms ?? [])].sort()).toEqual([...actions].sort());
  expect(needs.state).toBe('readwrite');
});
