import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  InvalidRequestException,
  ListSecretsCommand,
  MalformedPolicyDocumentException,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  RestoreSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { SECRET_PREFIXES } from '../../../lambdas/contract/env';
import { SecretsManagerSecretStore, secretResourcePolicy } from '../../../lambdas/adapters/aws/secrets-manager-secret-store';

const secretsManager = mockClient(SecretsManagerClient);
const meta = { $metadata: {} };
const exists = (): ResourceExistsException => new ResourceExistsException({ message: 'exists', ...meta });
const notFound = (): ResourceNotFoundException => new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", ...meta });
const pendingDeletion = (): InvalidRequestException =>
  new InvalidRequestException({ message: "You can't perform this operation on the secret because it was marked for deletion.", ...meta });

const ROLES = 'arn:aws:iam::111122223333:role/xks-key-manager/XksKeyManager/*';
let store: SecretsManagerSecretStore;

beforeEach(() => {
  secretsManager.reset();
  store = new SecretsManagerSecretStore({ client: new SecretsManagerClient({ region: 'us-east-1' }), kmsKeyId: 'alias/secrets', allowedPrincipalArnPattern: ROLES });
});

/** The commands sent, in order, by name. */
const sequence = (): string[] => secretsManager.calls().map((call) => (call.args[0] as object).constructor.name);

describe('the resource policy', () => {
  it("denies every principal outside the deployment's roles everything but reading the secret's metadata", () => {
    expect(secretResourcePolicy(ROLES)).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'OnlyTheKeyManagerRolesUseThisSecret',
          Effect: 'Deny',
          Principal: '*',
          NotAction: ['secretsmanager:DescribeSecret', 'secretsmanager:GetResourcePolicy', 'secretsmanager:ListSecretVersionIds'],
          Resource: '*',
          Condition: { ArnNotLike: { 'aws:PrincipalArn': ROLES } },
        },
      ],
    });
  });

  it('allows nothing to anyone (only Deny statements, so BlockPublicPolicy accepts it)', () => {
    const { Statement } = secretResourcePolicy(ROLES) as { Statement: Array<{ Effect: string; NotAction: string[] }> };
    expect(Statement.map((s) => s.Effect)).toEqual(['Deny']);
    for (const action of ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:PutResourcePolicy', 'secretsmanager:DeleteResourcePolicy', 'secretsmanager:DeleteSecret', 'secretsmanager:RestoreSecret', 'secretsmanager:UpdateSecret']) {
      expect(Statement[0].NotAction).not.toContain(action);
    }
  });
});

describe('put', () => {
  it('creates a new secret without its value, attaches the policy, then puts the value', async () => {
    // Arrange
    secretsManager.on(CreateSecretCommand).resolves({});
    secretsManager.on(PutResourcePolicyCommand).resolves({});
    secretsManager.on(PutSecretValueCommand).resolves({});

    // Act
    await store.put('xks-key-manager/hsm-pin/p1', '1234');

    // Assert
    expect(sequence()).toEqual(['CreateSecretCommand', 'PutResourcePolicyCommand', 'PutSecretValueCommand']);
    expect(secretsManager.commandCalls(CreateSecretCommand)[0].args[0].input).toEqual({
      Name: 'xks-key-manager/hsm-pin/p1',
      KmsKeyId: 'alias/secrets',
      Description: 'Managed by xks-key-manager',
    });
    const policyInput = secretsManager.commandCalls(PutResourcePolicyCommand)[0].args[0].input;
    expect(policyInput).toEqual({ SecretId: 'xks-key-manager/hsm-pin/p1', ResourcePolicy: expect.any(String), BlockPublicPolicy: true });
    expect(JSON.parse(policyInput.ResourcePolicy as string)).toEqual(secretResourcePolicy(ROLES));
    expect(secretsManager.commandCalls(PutSecretValueCommand)[0].args[0].input).toEqual({ SecretId: 'xks-key-manager/hsm-pin/p1', SecretString: '1234' });
  });

  it('re-attaches the policy and puts a new value when the secret exists', async () => {
    secretsManager.on(CreateSecretCommand).rejects(exists());
    secretsManager.on(PutResourcePolicyCommand).resolves({});
    secretsManager.on(PutSecretValueCommand).resolves({});

    await store.put('name', 'new');

    expect(sequence()).toEqual(['CreateSecretCommand', 'PutResourcePolicyCommand', 'PutSecretValueCommand']);
    expect(secretsManager.commandCalls(PutSecretValueCommand)[0].args[0].input).toEqual({ SecretId: 'name', SecretString: 'new' });
  });

  it('restores a secret pending deletion before the policy and the value', async () => {
    secretsManager.on(CreateSecretCommand).rejects(pendingDeletion());
    secretsManager.on(RestoreSecretCommand).resolves({});
    secretsManager.on(PutResourcePolicyCommand).resolves({});
    secretsManager.on(PutSecretValueCommand).resolves({});

    await store.put('name', 'again');

    expect(sequence()).toEqual(['CreateSecretCommand', 'RestoreSecretCommand', 'PutResourcePolicyCommand', 'PutSecretValueCommand']);
    expect(secretsManager.commandCalls(RestoreSecretCommand)[0].args[0].input).toEqual({ SecretId: 'name' });
  });

  it('never puts the value when the policy cannot be attached', async () => {
    secretsManager.on(CreateSecretCommand).resolves({});
    secretsManager.on(PutResourcePolicyCommand).rejects(new MalformedPolicyDocumentException({ message: 'bad policy', ...meta }));

    await expect(store.put('name', 'v')).rejects.toThrow('bad policy');

    expect(secretsManager.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });

  it('passes other failures on', async () => {
    secretsManager.on(CreateSecretCommand).rejects(new Error('AccessDenied'));
    await expect(store.put('name', 'v')).rejects.toThrow('AccessDenied');
    expect(sequence()).toEqual(['CreateSecretCommand']);
  });

  it('refuses to write anything without the role pattern, naming the variable', async () => {
    const unprotected = new SecretsManagerSecretStore({ client: new SecretsManagerClient({ region: 'us-east-1' }) });
    await expect(unprotected.put('name', 'v')).rejects.toThrow('Refusing to write the secret name without its resource policy: SECRETS_ALLOWED_PRINCIPAL_ARN_PATTERN is not set for this function');
    expect(secretsManager.calls()).toHaveLength(0);
  });
});

describe('get', () => {
  it('returns the secret string', async () => {
    secretsManager.on(GetSecretValueCommand, { SecretId: 'name' }).resolves({ SecretString: 's3cret' });
    await expect(store.get('name')).resolves.toBe('s3cret');
  });

  it.each([
    ['missing', notFound],
    ['pending deletion', pendingDeletion],
  ])('answers undefined for a %s secret', async (_, failure) => {
    secretsManager.on(GetSecretValueCommand).rejects(failure());
    await expect(store.get('name')).resolves.toBeUndefined();
  });

  it('passes other failures on', async () => {
    secretsManager.on(GetSecretValueCommand).rejects(new InvalidRequestException({ message: 'something else', ...meta }));
    await expect(store.get('name')).rejects.toThrow('something else');
  });
});

describe('delete', () => {
  it('schedules deletion with the recovery window, never forced', async () => {
    secretsManager.on(DeleteSecretCommand).resolves({});

    await new SecretsManagerSecretStore({ client: new SecretsManagerClient({ region: 'us-east-1' }), recoveryWindowInDays: 10 }).delete('name');
    await store.delete('other');

    expect(secretsManager.commandCalls(DeleteSecretCommand).map((c) => c.args[0].input)).toEqual([
      { SecretId: 'name', RecoveryWindowInDays: 10 },
      { SecretId: 'other', RecoveryWindowInDays: 7 },
    ]);
  });

  it.each([
    ['missing', notFound],
    ['already pending deletion', pendingDeletion],
  ])('accepts a %s secret', async (_, failure) => {
    secretsManager.on(DeleteSecretCommand).rejects(failure());
    await expect(store.delete('name')).resolves.toBeUndefined();
  });

  it('rejects a recovery window Secrets Manager would refuse', () => {
    expect(() => new SecretsManagerSecretStore({ client: new SecretsManagerClient({}), recoveryWindowInDays: 3 })).toThrow('recoveryWindowInDays must be an integer from 7 to 30, got 3');
  });
});

describe('the deployment namespace', () => {
  it('prefixes every name it sends to Secrets Manager, and encrypts new secrets with the given key', async () => {
    // Arrange
    const namespaced = new SecretsManagerSecretStore({ client: new SecretsManagerClient({ region: 'us-east-1' }), kmsKeyId: 'arn:aws:kms:us-east-1:111122223333:key/k-1', allowedPrincipalArnPattern: ROLES, namePrefix: 'Prod/' });
    secretsManager.on(CreateSecretCommand).resolves({}).on(PutResourcePolicyCommand).resolves({}).on(PutSecretValueCommand).resolves({});
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: 'v' }).on(DeleteSecretCommand).resolves({});
    // Act
    await namespaced.put('xks-key-manager/hsm-pin/p1', '1234');
    await expect(namespaced.get('xks-key-manager/hsm-pin/p1')).resolves.toBe('v');
    await namespaced.delete('xks-key-manager/hsm-pin/p1');
    // Assert
    const ids = secretsManager.calls().map((call) => { const input = (call.args[0] as { input: { Name?: string; SecretId?: string } }).input; return input.Name ?? input.SecretId; });
    expect(new Set(ids)).toEqual(new Set(['Prod/xks-key-manager/hsm-pin/p1']));
    expect(secretsManager.commandCalls(CreateSecretCommand)[0]!.args[0].input).toMatchObject({ Name: 'Prod/xks-key-manager/hsm-pin/p1', KmsKeyId: 'arn:aws:kms:us-east-1:111122223333:key/k-1' });
  });
});

describe('list', () => {
  it('lists by the deployment prefix and each kind\'s, page by page, giving the names put was given and their creation dates; never values', async () => {
    // Arrange
    const prefixed = new SecretsManagerSecretStore({ client: new SecretsManagerClient({ region: 'us-east-1' }), namePrefix: 'Stack/' });
    const created = new Date('2026-11-30T10:00:00Z');
    secretsManager
      .on(ListSecretsCommand)
      .resolvesOnce({ SecretList: [{ Name: 'Stack/xks-key-manager/xks/s1/c1', CreatedDate: created }, { Name: 'STACK/xks-key-manager/xks/other/c1', CreatedDate: created }], NextToken: 'page-2' })
      .resolvesOnce({ SecretList: [{ Name: 'Stack/xks-key-manager/hsm-pin/p1', CreatedDate: created }, { Name: 'Stack/xks-key-manager/hsm-pin/no-date' }] });

    // Act
    const listed = await prefixed.list();

    // Assert
    expect(listed).toEqual([
      { name: 'xks-key-manager/xks/s1/c1', createdAt: created },
      { name: 'xks-key-manager/hsm-pin/p1', createdAt: created },
    ]);
    const inputs = secretsManager.commandCalls(ListSecretsCommand).map((call) => call.args[0].input);
    expect(inputs[0]).toMatchObject({ Filters: [{ Key: 'name', Values: Object.values(SECRET_PREFIXES).map((prefix) => `Stack/${prefix}`) }], IncludePlannedDeletion: false });
    expect(inputs[0].Filters?.[0].Values).toEqual(expect.arrayContaining(['Stack/xks-key-manager/xks/', 'Stack/xks-key-manager/hsm-pin/']));
    expect(inputs[1]).toMatchObject({ NextToken: 'page-2' });
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  });
});
