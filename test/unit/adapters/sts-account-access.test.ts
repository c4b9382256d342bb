import { AssumeRoleCommand, GetCallerIdentityCommand, RegionDisabledException, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { StsAccountAccess } from '../../../lambdas/adapters/aws/sts-account-access';
import { LocalAwsAccountAccess } from '../../../lambdas/local/adapters/local-aws-account-access';
import { DependencyError, ValidationError } from '../../../lambdas/core/errors';
import { PARTITION_REGIONS } from '../../../lambdas/core/accounts/aws-regions';
import { checkRegions } from '../../../lambdas/core/accounts/account';

const sts = mockClient(STSClient);
const meta = { $metadata: {} };
const ROLE = 'arn:aws:iam::444455556666:role/xks-key-manager-access';
const TEMPORARY = { AccessKeyId: 'ASIATEMPORARY', SecretAccessKey: 'temporary-secret', SessionToken: 'temporary-token', Expiration: new Date() };
/** An STS error as the SDK builds it for an error code its model does not declare (AccessDenied, ValidationError). */
const stsError = (name: string, message: string): STSServiceException => new STSServiceException({ name, $fault: 'client', message, ...meta });

let access: StsAccountAccess;

beforeEach(() => {
  sts.reset();
  access = new StsAccountAccess({ client: new STSClient({ region: 'eu-west-1' }) });
});

describe('with a role', () => {
  it('assumes it (session name, external id, 15 minutes) and asks who it is with the temporary credentials', async () => {
    // Arrange
    sts.on(AssumeRoleCommand).resolves({ Credentials: TEMPORARY });
    sts.on(GetCallerIdentityCommand).resolves({ Account: '444455556666', Arn: 'arn:aws:sts::444455556666:assumed-role/xks-key-manager-access/xks-key-manager' });

    // Act
    const account = await access.describeAccount({ assumeRoleArn: ROLE, externalId: 'ext-123' });

    // Assert
    expect(account).toEqual({ accountId: '444455556666', regions: PARTITION_REGIONS.aws });
    expect(sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input)).toEqual([
      { RoleArn: ROLE, RoleSessionName: 'xks-key-manager', DurationSeconds: 900, ExternalId: 'ext-123' },
    ]);
    const [identityCall] = sts.commandCalls(GetCallerIdentityCommand);
    const client = identityCall.thisValue as STSClient;
    await expect(client.config.credentials()).resolves.toMatchObject({ accessKeyId: 'ASIATEMPORARY', secretAccessKey: 'temporary-secret', sessionToken: 'temporary-token' });
    await expect(client.config.region()).resolves.toBe('eu-west-1');
  });

  it('sends no ExternalId when none is given', async () => {
    sts.on(AssumeRoleCommand).resolves({ Credentials: TEMPORARY });
    sts.on(GetCallerIdentityCommand).resolves({ Account: '444455556666', Arn: 'arn:aws-us-gov:sts::444455556666:assumed-role/r/xks-key-manager' });

    const account = await access.describeAccount({ assumeRoleArn: ROLE });

    expect(sts.commandCalls(AssumeRoleCommand)[0].args[0].input).not.toHaveProperty('ExternalId');
    expect(account.regions).toEqual(['us-gov-east-1', 'us-gov-west-1']);
  });

  it('answers AccessDenied with a 400 naming assume_role_arn and saying what the role needs', async () => {
    sts.on(AssumeRoleCommand).rejects(stsError('AccessDenied', 'User: arn:aws:sts::111:assumed-role/fn is not authorized to perform: sts:AssumeRole'));

    const error = await access.describeAccount({ assumeRoleArn: ROLE, externalId: 'ext-123' }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('assume_role_arn');
    expect((error as ValidationError).statusCode).toBe(400);
    expect((error as Error).message).toBe(
      `assume_role_arn: this deployment cannot assume ${ROLE}: the role must exist, be named xks-key-manager-* (the only roles the key manager's functions may assume) and trust this deployment, with an sts:ExternalId condition equal to assume_role_external_id`,
    );
    expect(sts.commandCalls(GetCallerIdentityCommand)).toHaveLength(0);
  });

  it('mentions the external id when none was given', async () => {
    sts.on(AssumeRoleCommand).rejects(stsError('AccessDenied', 'not authorized'));
    await expect(access.describeAccount({ assumeRoleArn: ROLE })).rejects.toThrow('(and, if its trust policy requires an sts:ExternalId, set assume_role_external_id)');
  });

  it.each([
    ['an external id STS refuses', 'Value at externalId failed to satisfy constraint', 'assume_role_external_id'],
    ['a role ARN STS refuses', 'Value at roleArn failed to satisfy constraint', 'assume_role_arn'],
  ])('answers STS input errors (%s) with a 400 naming the field', async (_, message, field) => {
    sts.on(AssumeRoleCommand).rejects(stsError('ValidationError', message));
    const error = await access.describeAccount({ assumeRoleArn: ROLE, externalId: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe(field);
    expect((error as Error).message).toContain(message);
  });

  it('answers STS being disabled in the region, or unreachable, with a DependencyError', async () => {
    sts
      .on(AssumeRoleCommand)
      .rejectsOnce(new RegionDisabledException({ message: 'STS is not activated in this region', ...meta }))
      .rejectsOnce(Object.assign(new Error('connect ETIMEDOUT'), { name: 'TimeoutError' }));

    await expect(access.describeAccount({ assumeRoleArn: ROLE })).rejects.toThrow(`STS is not activated in this deployment's region for the account of ${ROLE}; activate it in the account's IAM settings`);
    const error = await access.describeAccount({ assumeRoleArn: ROLE }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DependencyError);
    expect((error as Error).message).toBe(`STS AssumeRole on ${ROLE} failed (TimeoutError)`);
    expect((error as DependencyError).statusCode).toBe(502);
  });

  it('refuses an answer without credentials', async () => {
    sts.on(AssumeRoleCommand).resolves({});
    await expect(access.describeAccount({ assumeRoleArn: ROLE })).rejects.toThrow(`STS AssumeRole on ${ROLE} returned no credentials`);
  });

  it('answers a failing GetCallerIdentity under the role with a DependencyError naming the role', async () => {
    sts.on(AssumeRoleCommand).resolves({ Credentials: TEMPORARY });
    sts.on(GetCallerIdentityCommand).rejects(stsError('ExpiredToken', 'expired'));
    await expect(access.describeAccount({ assumeRoleArn: ROLE })).rejects.toThrow(`STS GetCallerIdentity failed for the role ${ROLE} (ExpiredToken)`);
  });
});

describe('without a role', () => {
  it("describes the deployment's own account with its own credentials, assuming nothing", async () => {
    sts.on(GetCallerIdentityCommand).resolves({ Account: '111122223333', Arn: 'arn:aws:sts::111122223333:assumed-role/XksKeyManager-fn/session' });

    await expect(access.describeAccount({})).resolves.toEqual({ accountId: '111122223333', regions: PARTITION_REGIONS.aws });

    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(0);
    expect(sts.commandCalls(GetCallerIdentityCommand)).toHaveLength(1);
  });

  it('answers failures and answers it cannot read with a DependencyError', async () => {
    sts
      .on(GetCallerIdentityCommand)
      .rejectsOnce(stsError('InvalidClientTokenId', 'bad token'))
      .resolvesOnce({ Account: '111122223333', Arn: 'arn:aws-iso:sts::111122223333:assumed-role/r/s' });

    await expect(access.describeAccount({})).rejects.toThrow("STS GetCallerIdentity failed for the deployment's own identity (InvalidClientTokenId)");
    await expect(access.describeAccount({})).rejects.toThrow('STS GetCallerIdentity gave an answer without an account id or a known partition (arn:aws-iso:sts::111122223333:assumed-role/r/s)');
  });
});

describe('the partition region lists', () => {
  it.each(Object.entries(PARTITION_REGIONS))('hold only names the account container accepts, once each (%s)', (_, regions) => {
    expect(checkRegions(regions)).toEqual(regions);
  });
});

describe('LocalAwsAccountAccess', () => {
  it('fails with a DependencyError saying local mode has no AWS account and what the call needs', async () => {
    const local = new LocalAwsAccountAccess();
    await expect(local.describeAccount({ assumeRoleArn: ROLE })).rejects.toThrow(`Local mode has no AWS account: describing the role ${ROLE} needs AWS STS (sts:AssumeRole, sts:GetCallerIdentity), which only a deployment to AWS has (README, "Deploying to AWS")`);
    await expect(local.describeAccount({})).rejects.toThrow(/describing the deployment's own AWS account needs AWS STS/);
  });
});
