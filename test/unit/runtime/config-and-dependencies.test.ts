// Any import of pkcs11js in this file's module graph fails the test: aws-mode functions must not load it.
jest.mock('pkcs11js', () => {
  throw new Error('pkcs11js was loaded');
});

import { LambdaHsmAgent } from '../../../lambdas/adapters/aws/lambda-hsm-agent';
import { CognitoTokenVerifier } from '../../../lambdas/adapters/aws/cognito-token-verifier';
import { SecretsManagerSecretStore } from '../../../lambdas/adapters/aws/secrets-manager-secret-store';
import { StsAccountAccess } from '../../../lambdas/adapters/aws/sts-account-access';
import { DynamoDbStateStore } from '../../../lambdas/adapters/dynamodb/dynamodb-state-store';
import { LocalAwsAccountAccess } from '../../../lambdas/local/adapters/local-aws-account-access';
import { LocalSecretStore } from '../../../lambdas/local/adapters/local-secret-store';
import { loadConfig } from '../../../lambdas/runtime/config';
import { createDependencies } from '../../../lambdas/runtime/dependencies';
import { MemoryStateStore } from '../../helpers/memory-state-store';
import { useLocalAdapterSet } from '../../../lambdas/local/local-adapter-set';

// Local mode's adapter set (the one KEY_MANAGER_MODE=local selects) is registered by local code only.
useLocalAdapterSet();

describe('loadConfig', () => {
  it('reads the mode, the table and the optional settings, with aws as the default mode', () => {
    expect(loadConfig({ STATE_TABLE_NAME: ' state ', USER_POOL_ID: 'pool', PKCS11_LIBRARY_LUNA: '/opt/luna.so' })).toEqual({
      mode: 'aws',
      stateTableName: 'state',
      dynamoDbEndpoint: undefined,
      userPoolId: 'pool',
      userPoolClientId: undefined,
      hsmAgentFunctionName: undefined,
      secretsAllowedPrincipalArnPattern: undefined,
      localStateDir: expect.stringMatching(/\/\.local$/),
      pkcs11Libraries: { luna: '/opt/luna.so' },
      pkcs11CallModes: {},
      mtlsTrustStore: false,
    });
    expect(loadConfig({ STATE_TABLE_NAME: 'state', XKS_ALB_MTLS_VERIFY: 'true' }).mtlsTrustStore).toBe(true);
  });

  it('fails fast, naming the variable', () => {
    expect(() => loadConfig({})).toThrow('The environment variable STATE_TABLE_NAME is not set');
    expect(() => loadConfig({ STATE_TABLE_NAME: '  ' })).toThrow('The environment variable STATE_TABLE_NAME is not set');
    expect(() => loadConfig({ STATE_TABLE_NAME: 't', KEY_MANAGER_MODE: 'cloud' })).toThrow('The environment variable KEY_MANAGER_MODE must be one of aws, local, not "cloud"');
  });
});

describe('createDependencies', () => {
  it('builds the AWS adapters in aws mode without loading PKCS#11', () => {
    const deps = createDependencies(loadConfig({ STATE_TABLE_NAME: 't', USER_POOL_ID: 'us-east-1_abc', USER_POOL_CLIENT_ID: 'c', HSM_AGENT_FUNCTION_NAME: 'agent' }));
    expect(deps.state).toBeInstanceOf(DynamoDbStateStore);
    expect(deps.secrets).toBeInstanceOf(SecretsManagerSecretStore);
    expect(deps.hsmAgent).toBeInstanceOf(LambdaHsmAgent);
    expect(deps.tokens).toBeInstanceOf(CognitoTokenVerifier);
    expect(deps.hsmAgent).toBe(deps.hsmAgent);
  });

  it('would notice PKCS#11 being loaded (the guard above works)', () => {
    expect(() => require('../../../lambdas/adapters/pkcs11/hsm-agent')).toThrow('pkcs11js was loaded');
  });

  it('names the missing setting only when a member that needs it is used', () => {
    const deps = createDependencies(loadConfig({ STATE_TABLE_NAME: 't' }));
    expect(() => deps.hsmAgent).toThrow('The environment variable HSM_AGENT_FUNCTION_NAME is not set (needed by this function)');
    expect(() => deps.tokens).toThrow('The environment variable USER_POOL_ID is not set (needed by this function)');
    expect(deps.accountContainers).toBeDefined();
  });

  it('uses the given ports and the local secret store in local mode', () => {
    const state = new MemoryStateStore();
    const deps = createDependencies(loadConfig({ STATE_TABLE_NAME: 't', KEY_MANAGER_MODE: 'local', LOCAL_STATE_DIR: '/tmp/never-written' }), { state });
    expect(deps.state).toBe(state);
    expect(deps.secrets).toBeInstanceOf(LocalSecretStore);
    expect(deps.hsmPartitions).toBe(deps.hsmPartitions);
  });

  it('verifies account container roles through STS in aws mode only', () => {
    const aws = createDependencies(loadConfig({ STATE_TABLE_NAME: 't' }));
    expect(aws.awsAccountAccess).toBeInstanceOf(StsAccountAccess);
    expect(aws.accountRoleVerifier).toBe(aws.awsAccountAccess);

    const local = createDependencies(loadConfig({ STATE_TABLE_NAME: 't', KEY_MANAGER_MODE: 'local', LOCAL_STATE_DIR: '/tmp/never-written' }));
    expect(local.awsAccountAccess).toBeInstanceOf(LocalAwsAccountAccess);
    expect(local.accountRoleVerifier).toBeUndefined();
  });
});
