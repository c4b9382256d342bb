/**
 * An in-memory AwsKmsKeys for service tests: KMS keys per account and region with the AWS KMS
 * rules the services rely on (Enabled/Disabled/PendingDeletion states and which operations each
 * allows, unique aliases, tags, the default policy, deletion dates), answering with the errors the
 * adapter translates AWS's into. Tests queue failures with `failNext`. Integration tests use the
 * real adapter against the local AWS stand-in instead.
 */
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { ConflictError, NotFoundError, ValidationError } from '../../lambdas/core/errors';
import type { KmsLocation } from '../../lambdas/core/ports/aws-kms';
import type { AwsKmsKeys, CreateKmsKeyRequest, ImportKmsKeyMaterialRequest, KmsImportParameters, KmsKeyMetadata, KmsTag } from '../../lambdas/core/ports/aws-kms-keys';

/** One wrapping public key for every GetParametersForImport of the fake (generating RSA keys per call is slow). */
const WRAPPING_PUBLIC_KEY = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'der', type: 'spki' });

interface FakeKey {
  metadata: KmsKeyMetadata;
  tags: KmsTag[];
  policy: string;
  at: KmsLocation;
  /** Imported key material as ImportKeyMaterial got it (still wrapped), and the tokens handed out. */
  imported?: Uint8Array;
  importTokens: Uint8Array[];
  rotationEnabled?: boolean;
}

export class FakeAwsKmsKeys implements AwsKmsKeys {
  readonly keys = new Map<string, FakeKey>();
  /** alias name → key id. */
  readonly aliases = new Map<string, string>();
  readonly calls: string[] = [];
  private readonly failures: Array<{ operation: string; error: Error }> = [];

  constructor(private readonly now: () => Date = () => new Date()) {}

  /** The next call of `operation` fails with `error`. */
  failNext(operation: keyof AwsKmsKeys, error: Error): this {
    this.failures.push({ operation, error });
    return this;
  }

  /** AWS KMS deletes the key (its waiting period is over). */
  expire(keyId: string): void {
    this.keys.delete(keyId);
    for (const [alias, target] of this.aliases) if (target === keyId) this.aliases.delete(alias);
  }

  async createKey(at: KmsLocation, request: CreateKmsKeyRequest): Promise<KmsKeyMetadata> {
    this.enter('createKey');
    const keyId = randomUUID();
    const store = request.externalKeyStore;
    if (store !== undefined && [...this.keys.values()].some((k) => k.metadata.XksKeyConfiguration?.Id === store.xksKeyId && k.metadata.CustomKeyStoreId === store.customKeyStoreId)) {
      throw new ConflictError(`AWS KMS CreateKey: XksKeyAlreadyInUseException: ${store.xksKeyId}`);
    }
    const metadata: KmsKeyMetadata = {
      AWSAccountId: at.accountId,
      KeyId: keyId,
      Arn: `arn:aws:kms:${at.region}:${at.accountId}:key/${keyId}`,
      CreationDate: this.now().toISOString(),
      Enabled: request.origin !== 'EXTERNAL',
      Description: request.description ?? '',
      KeyUsage: request.keyUsage ?? 'ENCRYPT_DECRYPT',
      KeyState: request.origin === 'EXTERNAL' ? 'PendingImport' : 'Enabled',
      Origin: request.origin ?? (store !== undefined ? 'EXTERNAL_KEY_STORE' : request.cloudHsmKeyStore !== undefined ? 'AWS_CLOUDHSM' : 'AWS_KMS'),
      KeyManager: 'CUSTOMER',
      CustomerMasterKeySpec: request.keySpec ?? 'SYMMETRIC_DEFAULT',
      KeySpec: request.keySpec ?? 'SYMMETRIC_DEFAULT',
      ...((request.keySpec ?? 'SYMMETRIC_DEFAULT') === 'SYMMETRIC_DEFAULT' ? { EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'] } : {}),
      MultiRegion: request.multiRegion ?? false,
      ...(store === undefined ? {} : { CustomKeyStoreId: store.customKeyStoreId, XksKeyConfiguration: { Id: store.xksKeyId } }),
      ...(request.cloudHsmKeyStore === undefined ? {} : { CustomKeyStoreId: request.cloudHsmKeyStore.customKeyStoreId }),
    };
    const policy = request.policy ?? JSON.stringify({ Version: '2012-10-17', Id: 'key-default-1', Statement: [{ Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${at.accountId}:root` }, Action: 'kms:*', Resource: '*' }] });
    this.keys.set(keyId, { metadata, tags: [...(request.tags ?? [])], policy, at, importTokens: [] });
    return metadata;
  }

  async describeKeyMetadata(_at: KmsLocation, keyId: string): Promise<KmsKeyMetadata> {
    this.enter('describeKeyMetadata');
    return this.require(keyId).metadata;
  }

  async listKeyAliases(_at: KmsLocation, keyId: string): Promise<string[]> {
    this.enter('listKeyAliases');
    this.require(keyId);
    return [...this.aliases].filter(([, target]) => target === keyId).map(([alias]) => alias);
  }

  async listKeyTags(_at: KmsLocation, keyId: string): Promise<KmsTag[]> {
    this.enter('listKeyTags');
    return this.require(keyId).tags;
  }

  async getKeyPolicy(_at: KmsLocation, keyId: string): Promise<string> {
    this.enter('getKeyPolicy');
    return this.require(keyId).policy;
  }

  async getKeyRotationStatus(_at: KmsLocation, keyId: string): Promise<boolean | undefined> {
    this.enter('getKeyRotationStatus');
    const key = this.require(keyId);
    return key.metadata.Origin === 'AWS_KMS' ? key.rotationEnabled ?? false : undefined;
  }

  async enableKey(_at: KmsLocation, keyId: string): Promise<void> {
    this.enter('enableKey');
    this.setState(this.require(keyId, ['Enabled', 'Disabled']), 'Enabled');
  }

  async disableKey(_at: KmsLocation, keyId: string): Promise<void> {
    this.enter('disableKey');
    this.setState(this.require(keyId, ['Enabled', 'Disabled']), 'Disabled');
  }

  async scheduleKeyDeletion(_at: KmsLocation, keyId: string, days: number): Promise<void> {
    this.enter('scheduleKeyDeletion');
    const key = this.require(keyId, ['Enabled', 'Disabled', 'PendingImport']);
    if (days < 7 || days > 30) throw new ValidationError(`AWS KMS refused it: PendingWindowInDays ${days}`, 'days');
    const deletion = new Date(this.now().getTime() + days * 86_400_000).toISOString();
    key.metadata = { ...key.metadata, KeyState: 'PendingDeletion', Enabled: false, DeletionDate: deletion, PendingDeletionWindowInDays: days };
  }

  async cancelKeyDeletion(_at: KmsLocation, keyId: string): Promise<void> {
    this.enter('cancelKeyDeletion');
    const key = this.require(keyId, ['PendingDeletion']);
    const { DeletionDate: _d, PendingDeletionWindowInDays: _w, ...rest } = key.metadata;
    key.metadata = { ...rest, KeyState: 'Disabled', Enabled: false };
  }

  async createAlias(_at: KmsLocation, alias: string, keyId: string): Promise<void> {
    this.enter('createAlias');
    this.require(keyId, ['Enabled', 'Disabled', 'PendingImport']);
    if (this.aliases.has(alias)) throw new ConflictError(`alias: AWS KMS CreateAlias: AlreadyExistsException: An alias with the name ${alias} already exists`);
    this.aliases.set(alias, keyId);
  }

  async deleteAlias(_at: KmsLocation, alias: string): Promise<void> {
    this.enter('deleteAlias');
    if (!this.aliases.delete(alias)) throw new NotFoundError('AWS KMS alias', alias);
  }

  async updateKeyDescription(_at: KmsLocation, keyId: string, description: string): Promise<void> {
    this.enter('updateKeyDescription');
    const key = this.require(keyId, ['Enabled', 'Disabled']);
    key.metadata = { ...key.metadata, Description: description };
  }

  async tagKey(_at: KmsLocation, keyId: string, tags: readonly KmsTag[]): Promise<void> {
    this.enter('tagKey');
    const key = this.require(keyId, ['Enabled', 'Disabled']);
    const merged = new Map(key.tags.map((t) => [t.TagKey, t.TagValue]));
    for (const tag of tags) merged.set(tag.TagKey, tag.TagValue);
    key.tags = [...merged].map(([TagKey, TagValue]) => ({ TagKey, TagValue }));
  }

  async untagKey(_at: KmsLocation, keyId: string, tagKeys: readonly string[]): Promise<void> {
    this.enter('untagKey');
    const key = this.require(keyId, ['Enabled', 'Disabled']);
    key.tags = key.tags.filter((t) => !tagKeys.includes(t.TagKey));
  }

  async putKeyPolicy(_at: KmsLocation, keyId: string, policy: string): Promise<void> {
    this.enter('putKeyPolicy');
    const key = this.require(keyId, ['Enabled', 'Disabled']);
    key.policy = policy;
  }

  async getParametersForImport(_at: KmsLocation, keyId: string): Promise<KmsImportParameters> {
    this.enter('getParametersForImport');
    const key = this.require(keyId, ['Enabled', 'Disabled', 'PendingImport']);
    if (key.metadata.Origin !== 'EXTERNAL') throw new ConflictError(`AWS KMS GetParametersForImport: UnsupportedOperationException: ${key.metadata.Arn} has origin ${key.metadata.Origin}`);
    const importToken = randomBytes(64);
    key.importTokens.push(importToken);
    return { importToken, publicKey: WRAPPING_PUBLIC_KEY, parametersValidTo: new Date(this.now().getTime() + 86_400_000).toISOString() };
  }

  async importKeyMaterial(_at: KmsLocation, keyId: string, request: ImportKmsKeyMaterialRequest): Promise<void> {
    this.enter('importKeyMaterial');
    const key = this.require(keyId, ['Enabled', 'Disabled', 'PendingImport']);
    if (!key.importTokens.some((token) => Buffer.from(token).equals(Buffer.from(request.importToken)))) throw new ConflictError('AWS KMS ImportKeyMaterial: InvalidImportTokenException');
    key.imported = request.encryptedKeyMaterial;
    const expiry = request.validTo === undefined ? { ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' } : { ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: request.validTo };
    const { ValidTo: _v, ...rest } = key.metadata;
    key.metadata = { ...rest, ...expiry, ...(key.metadata.KeyState === 'PendingImport' ? { KeyState: 'Enabled', Enabled: true } : {}) };
  }

  async deleteImportedKeyMaterial(_at: KmsLocation, keyId: string): Promise<void> {
    this.enter('deleteImportedKeyMaterial');
    const key = this.require(keyId, ['Enabled', 'Disabled', 'PendingImport']);
    key.imported = undefined;
    const { ValidTo: _v, ExpirationModel: _e, ...rest } = key.metadata;
    key.metadata = { ...rest, KeyState: 'PendingImport', Enabled: false };
  }

  private setState(key: FakeKey, state: 'Enabled' | 'Disabled'): void {
    key.metadata = { ...key.metadata, KeyState: state, Enabled: state === 'Enabled' };
  }

  private require(keyId: string, states?: readonly string[]): FakeKey {
    const key = this.keys.get(keyId);
    if (key === undefined) throw new NotFoundError('AWS KMS key', keyId);
    if (states !== undefined && !states.includes(key.metadata.KeyState)) {
      throw new ConflictError(`AWS KMS: KMSInvalidStateException: ${key.metadata.Arn} is ${key.metadata.KeyState}`);
    }
    return key;
  }

  private enter(operation: string): void {
    this.calls.push(operation);
    const i = this.failures.findIndex((f) => f.operation === operation);
    if (i >= 0) {
      const [failure] = this.failures.splice(i, 1);
      throw failure.error;
    }
  }
}
