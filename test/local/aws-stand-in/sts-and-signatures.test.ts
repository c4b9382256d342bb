/**
 * STS on the stand-in through the real @aws-sdk/client-sts (query protocol, XML), and the SigV4
 * checks every request passes: AssumeRole and GetCallerIdentity compared with the API
 * reference's examples, temporary credentials that need their session token and expire, and the
 * exception names AWS answers for unsigned, mis-signed and unknown-key requests.
 */
import { ListKeysCommand } from '@aws-sdk/client-kms';
import { AssumeRoleCommand, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { failureOf, standInFixture, type StandInFixture } from './stand-in-fixture';

let aws: StandInFixture;
let now = Date.now();

beforeAll(async () => {
  aws = await standInFixture({ now: () => new Date(now) });
});

afterAll(async () => {
  await aws.stop();
});

describe('GetCallerIdentity', () => {
  it('answers the account root for the account`s own key, as the API reference example shows its fields', async () => {
    const identity = await aws.sts.send(new GetCallerIdentityCommand({}));
    expect(identity).toMatchObject({ UserId: '111122223333', Account: '111122223333', Arn: 'arn:aws:iam::111122223333:root' });
  });
});

describe('AssumeRole', () => {
  const roleArn = 'arn:aws:iam::123456789012:role/xks-key-manager-demo';

  it('gives credentials for the role`s account, in the shape of the API reference example', async () => {
    const assumed = await aws.sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'testAssumeRoleSession', DurationSeconds: 900 }));
    expect(assumed.AssumedRoleUser).toEqual({
      Arn: 'arn:aws:sts::123456789012:assumed-role/xks-key-manager-demo/testAssumeRoleSession',
      AssumedRoleId: expect.stringMatching(/^AROA[A-Z2-7]{17}:testAssumeRoleSession$/),
    });
    expect(assumed.Credentials!.AccessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(assumed.Credentials!.SecretAccessKey).toHaveLength(40);
    expect(assumed.Credentials!.SessionToken!.length).toBeGreaterThan(100);
    expect(Math.abs(assumed.Credentials!.Expiration!.getTime() - (now + 900_000))).toBeLessThan(2000);

    const session = aws.stsFor({ accessKeyId: assumed.Credentials!.AccessKeyId!, secretAccessKey: assumed.Credentials!.SecretAccessKey!, sessionToken: assumed.Credentials!.SessionToken! });
    expect(await session.send(new GetCallerIdentityCommand({}))).toMatchObject({
      Account: '123456789012',
      Arn: 'arn:aws:sts::123456789012:assumed-role/xks-key-manager-demo/testAssumeRoleSession',
      UserId: assumed.AssumedRoleUser!.AssumedRoleId,
    });
  });

  it('refuses roles that are not the product`s, and bad parameters, as AWS does', async () => {
    expect(await failureOf(aws.sts.send(new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::123456789012:role/admin', RoleSessionName: 's1' })))).toMatchObject({
      name: 'AccessDenied',
      message: 'User: arn:aws:iam::111122223333:root is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/admin',
      status: 403,
    });
    expect(await failureOf(aws.sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 's' })))).toMatchObject({ name: 'ValidationError', status: 400 });
    expect(await failureOf(aws.sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'bad name' })))).toMatchObject({ name: 'ValidationError' });
    expect(await failureOf(aws.sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 's1', DurationSeconds: 899 })))).toMatchObject({ name: 'ValidationError' });
    expect(await failureOf(aws.sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 's1', DurationSeconds: 7200 })))).toMatchObject({
      name: 'ValidationError',
      message: 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.',
    });
  });

  it('temporary credentials need their session token, and stop working when they expire', async () => {
    const assumed = await aws.sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'expiring', DurationSeconds: 900 }));
    const { AccessKeyId, SecretAccessKey, SessionToken } = assumed.Credentials!;
    const withoutToken = aws.kmsFor({ accessKeyId: AccessKeyId!, secretAccessKey: SecretAccessKey! });
    expect(await failureOf(withoutToken.send(new ListKeysCommand({})))).toMatchObject({ name: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' });
    const wrongToken = aws.kmsFor({ accessKeyId: AccessKeyId!, secretAccessKey: SecretAccessKey!, sessionToken: `${SessionToken}x` });
    expect(await failureOf(wrongToken.send(new ListKeysCommand({})))).toMatchObject({ name: 'UnrecognizedClientException' });

    const session = aws.kmsFor({ accessKeyId: AccessKeyId!, secretAccessKey: SecretAccessKey!, sessionToken: SessionToken! });
    await session.send(new ListKeysCommand({}));
    now += 901_000;
    session.config.systemClockOffset = now - Date.now();
    expect(await failureOf(session.send(new ListKeysCommand({})))).toMatchObject({ name: 'ExpiredTokenException', message: 'The security token included in the request is expired' });
    const expiredSts = aws.stsFor({ accessKeyId: AccessKeyId!, secretAccessKey: SecretAccessKey!, sessionToken: SessionToken! });
    expiredSts.config.systemClockOffset = now - Date.now();
    expect(await failureOf(expiredSts.send(new GetCallerIdentityCommand({})))).toMatchObject({ name: 'ExpiredToken', status: 400 });
  });
});

describe('SigV4 checks', () => {
  it('names each failure as AWS does on JSON and query services', async () => {
    const wrongSecret = { accessKeyId: aws.standIn.accessKeyId, secretAccessKey: `${aws.standIn.secretAccessKey}x` };
    expect(await failureOf(aws.kmsFor(wrongSecret).send(new ListKeysCommand({})))).toMatchObject({ name: 'InvalidSignatureException', status: 400 });
    expect(await failureOf(aws.stsFor(wrongSecret).send(new GetCallerIdentityCommand({})))).toMatchObject({ name: 'SignatureDoesNotMatch', status: 403 });

    const unknownKey = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };
    expect(await failureOf(aws.kmsFor(unknownKey).send(new ListKeysCommand({})))).toMatchObject({ name: 'UnrecognizedClientException' });
    expect(await failureOf(aws.stsFor(unknownKey).send(new GetCallerIdentityCommand({})))).toMatchObject({ name: 'InvalidClientTokenId', status: 403 });

    const unsigned = await fetch(aws.standIn.endpointUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'TrentService.ListKeys' },
      body: '{}',
    });
    expect(unsigned.status).toBe(400);
    expect(await unsigned.json()).toEqual({ __type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' });

    const skewed = aws.kmsFor(aws.standIn);
    skewed.config.systemClockOffset = now - Date.now() + 10 * 60_000; // ten minutes ahead of the stand-in's clock
    expect(await failureOf(skewed.send(new ListKeysCommand({})))).toMatchObject({ name: 'InvalidSignatureException', message: expect.stringMatching(/^Signature expired/) });
  });
});
