/**
 * POST /v1/cckm/aws/accounts through its real handler: admin only, the body checked against the
 * route's schema, STS (mocked) in aws mode, and the clear failure of local mode.
 */
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { handler } from '../../../lambdas/handlers/describe-aws-account';
import { PARTITION_REGIONS } from '../../../lambdas/core/accounts/aws-regions';
import { loadConfig } from '../../../lambdas/runtime/config';
import { createDependencies, setDependencies } from '../../../lambdas/runtime/dependencies';
import { apiEvent, lambdaContext, parseResponse, TestTokens, type EventOptions } from '../../helpers/api-events';
import { MemoryStateStore } from '../../helpers/memory-state-store';
import { useLocalAdapterSet } from '../../../lambdas/local/local-adapter-set';

// Local mode's adapter set (the one KEY_MANAGER_MODE=local selects) is registered by local code only.
useLocalAdapterSet();

const sts = mockClient(STSClient);
const tokens = TestTokens.create();
const ROLE = 'arn:aws:iam::444455556666:role/xks-key-manager-access';

async function call(options: EventOptions) {
  return parseResponse(await handler(apiEvent('DescribeAwsAccount', options), lambdaContext()));
}

function useMode(mode: 'aws' | 'local'): void {
  setDependencies(createDependencies(loadConfig({ KEY_MANAGER_MODE: mode, STATE_TABLE_NAME: 'unused' }), { tokens: tokens.verifier, state: new MemoryStateStore() }));
}

const regionBefore = process.env.AWS_REGION;

beforeEach(() => {
  sts.reset();
  process.env.AWS_REGION = 'us-east-1'; // what Lambda sets; the composition root's STS client reads it
  jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
});

afterEach(() => jest.restoreAllMocks());
afterAll(() => {
  setDependencies(undefined);
  if (regionBefore === undefined) delete process.env.AWS_REGION;
  else process.env.AWS_REGION = regionBefore;
});

describe('aws mode', () => {
  beforeEach(() => useMode('aws'));

  it('answers 200 with the account id and regions the role leads to', async () => {
    // Arrange
    sts.on(AssumeRoleCommand).resolves({ Credentials: { AccessKeyId: 'ASIA1', SecretAccessKey: 's', SessionToken: 't', Expiration: new Date() } });
    sts.on(GetCallerIdentityCommand).resolves({ Account: '444455556666', Arn: 'arn:aws:sts::444455556666:assumed-role/xks-key-manager-access/xks-key-manager' });
    // Act
    const response = await call({ token: await tokens.admin(), body: { assume_role_arn: ROLE, assume_role_external_id: 'ext-1' } });
    // Assert
    expect(response).toEqual({ statusCode: 200, body: { account_id: '444455556666', regions: [...PARTITION_REGIONS.aws] } });
    expect(sts.commandCalls(AssumeRoleCommand)[0].args[0].input).toMatchObject({ RoleArn: ROLE, ExternalId: 'ext-1' });
  });

  it("describes the deployment's own account for an empty body", async () => {
    sts.on(GetCallerIdentityCommand).resolves({ Account: '111122223333', Arn: 'arn:aws:sts::111122223333:assumed-role/fn/s' });
    const response = await call({ token: await tokens.admin() });
    expect(response.body.account_id).toBe('111122223333');
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(0);
  });

  it('answers a role this deployment may not assume with a CCKM 400 naming assume_role_arn', async () => {
    sts.on(AssumeRoleCommand).rejects(new STSServiceException({ name: 'AccessDenied', $fault: 'client', message: 'not authorized', $metadata: {} }));
    const response = await call({ token: await tokens.admin(), body: { assume_role_arn: ROLE } });
    expect(response.statusCode).toBe(400);
    expect(response.body.codeDesc).toMatch(/^NCERRInvalidParamValue: assume_role_arn: this deployment cannot assume .* be named xks-key-manager-\*/);
  });

  it('answers 403 to a user and 400 to a body the schema refuses, without calling STS', async () => {
    expect((await call({ token: await tokens.user('alice'), body: { assume_role_arn: ROLE } })).statusCode).toBe(403);
    const bad = await call({ token: await tokens.admin(), body: { assume_role_arn: ROLE, regions: ['us-east-1'] } });
    expect(bad.statusCode).toBe(400);
    expect(bad.body.message).toMatch(/regions/);
    expect(sts.calls()).toHaveLength(0);
  });
});

describe('local mode', () => {
  beforeEach(() => useMode('local'));

  it('answers 502 saying local mode has no AWS account and what the call needs', async () => {
    const response = await call({ token: await tokens.admin(), body: { assume_role_arn: ROLE } });
    expect(response.statusCode).toBe(502);
    expect(response.body.message).toBe(
      `Local mode has no AWS account: describing the role ${ROLE} needs AWS STS (sts:AssumeRole, sts:GetCallerIdentity), which only a deployment to AWS has (README, "Deploying to AWS")`,
    );
    expect(sts.calls()).toHaveLength(0);
  });
});
