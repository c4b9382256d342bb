import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  InvalidRequestException,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  RestoreSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { SecretsManagerSecretStore } from '../../../lambdas/adapters/aws/secrets-manager-secret-store';

const secretsManager = mockClient(SecretsManagerClient);
const meta = { $metadata: {} };
const exists = (): ResourceExistsException => new ResourceExistsException({ message: 'exists', ...meta });
const notFound = (): ResourceNotFoundException => new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", ...meta });
const pendingDeletion = (): InvalidRequestException =>
  new InvalidRequestException({ message: "You can't perform this operation on the secret because it was marked for deletion.", ...meta });

let store: SecretsManagerSecretStore;

beforeEach(() => {
  secretsManager.reset();
  store = new SecretsManagerSecretStore({ client: new SecretsManagerClient({ region: 'us-east-1' }), kmsKeyId: 'alias/secrets' });
});

describe('put', () => {
  it('creates a new secret with the configured KMS key', async () => {
    secretsManager.on(CreateSecretCommand).resolves({});

    await store.put('xks-key-manager/hsm-pin/p1', '1234');

    expect(secretsManager.commandCalls(CreateSecretCommand)[0].args[0].input).toEqual({
      Name: 'xks-key-manager/hsm-pin/p1',
      SecretString: '1234',
      KmsKeyId: 'alias/secrets',
      Description: 'Managed by xks-key-manager',
    });
    expect(secretsManager.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });

  it('puts a new value when the secret exists', async () => {
    secretsManager.on(CreateSecretCommand).rejects(exists());
    secretsManager.on(PutSecretValueCommand).resolves({});

    await store.put('name', 'new');

    expect(secretsManager.commandCalls(PutSecretValueCommand)[0].args[0].input).toEqual({ SecretId: 'name', SecretString: 'new' });
  });

  it('restores a secret pending deletion before putting the value', async () => {
    secretsManager.on(CreateSecretCommand).rejects(pendingDeletion());
    secretsManager.on(RestoreSecretCommand).resolves({});
    secretsManager.on(PutSecretValueCommand).resolves({});

    await store.put('name', 'again');

    expect(secretsManager.commandCalls(RestoreSecretCommand)[0].args[0].input).toEqual({ SecretId: 'name' });
    expect(secretsManager.commandCalls(PutSecretValueCommand)).toHaveLength(1);
  });

  it('passes other failures on', async () => {
    secretsManager.on(CreateSecretCommand).rejects(new Error('AccessDenied'));
    await expect(store.put('name', 'v')).rejects.toThrow('AccessDenied');
    expect(secretsManager.commandCalls(PutSecretValueCommand)).toHaveLength(0);
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
