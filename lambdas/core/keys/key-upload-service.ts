/**
 * BYOK upload (README "BYOK upload"; CCKM's `POST /v1/cckm/aws/upload-key`): an HSM source key's
 * material imported into a new AWS KMS key, wrapped inside the HSM so that it never exists outside
 * it in the clear; and the material of such a key imported again or deleted.
 *
 * Upload, in steps:
 *  1. Check the whole request (account container and region, the HSM key, tier, key spec and
 *     usage, expiry, policy) and that the key may back this container; nothing is called before.
 *  2. CreateKey with Origin EXTERNAL (PendingImport).
 *  3. GetParametersForImport → the HSM agent wraps the key with AWS KMS's public key → ImportKeyMaterial.
 *  4. The alias; then the AWS key record (kind `byok`), which counts as a reference of the HSM key.
 * If a step after CreateKey fails, the KMS key is scheduled for deletion (7 days, AWS KMS's
 * shortest window) and the error names the step and what AWS KMS (or the HSM) said.
 */
import { type Access, missingReferenceFor } from '../accounts/access';
import { ConflictError, DependencyError, ValidationError, isError } from '../errors';
import { HSM_KEY_COUNTERS, type HsmKeyData, hsmKeyRef } from '../hsm/hsm-key';
import { partitionConnection, type PartitionData } from '../hsm/partition';
import { claimKeyFor, type HsmKeyRecord, requirePartition, resolveAccount, transactWithClaim } from '../key-references';
import { kmsLocation } from '../key-stores/aws-kms-links';
import type { KmsLocation } from '../ports/aws-kms';
import type { AwsKmsKeys } from '../ports/aws-kms-keys';
import type { Clock } from '../ports/clock';
import { HsmError, type HsmAgent } from '../ports/hsm';
import type { IdGenerator } from '../ports/id-generator';
import type { EntityRecord, StateOp, StateStore } from '../ports/state-store';
import { type AwsKeyData, awsKeyRecordId, kmsKeyIdOf, kmsKeySnapshot, type OtherAwsKeyData } from './aws-key';
import type { AwsKeyResource } from './aws-key-resource';
import { AWS_KEY_RESOURCE, type AwsKeyService } from './aws-key-service';
import { linkPlan, undoKmsKey } from './hyok-key-link';
import { checkSourceTier, checkUploadable, keySpecAndUsage, materialValidTo, WRAPPING_KEY_SPEC, wrappingAlgorithmFor } from './key-upload';
import { kmsLocationOf, readKmsKey } from './kms-key-reads';
import type { ImportAwsKeyMaterialRequest as ImportKeyMaterialRequest, UploadAwsKeyRequest as UploadKeyRequest } from '../../contract/aws-key-schemas';

/** POST /v1/cckm/aws/upload-key and POST .../{id}/import-material: the types of `awsKeySchemas.upload` and `importMaterial`. */
export type { ImportKeyMaterialRequest, UploadKeyRequest };

export interface KeyUploadServiceDeps {
  readonly state: StateStore;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly awsKmsKeys: AwsKmsKeys;
  readonly hsmAgent: HsmAgent;
  readonly awsKeys: AwsKeyService;
}

/** Which step is running, for the message of a failure. */
interface Progress {
  step: string;
}

export class KeyUploadService {
  constructor(private readonly deps: KeyUploadServiceDeps) {}

  async upload(access: Access, request: UploadKeyRequest): Promise<AwsKeyResource> {
    const { state, clock, awsKmsKeys } = this.deps;
    const account = await resolveAccount(state, access, request.kms, 'kms');
    if (!account.data.regions.includes(request.region)) {
      throw new ValidationError(`must be one of the regions of AWS account container ${account.data.name}: ${account.data.regions.join(', ')}`, 'region');
    }
    const source = await this.findSourceKey(access, request.source_key_identifier);
    const partition = await requirePartition(state, source.data.partitionId, 'source_key_identifier', access);
    const tier = checkSourceTier(request.source_key_tier, partition.data.hsmType);
    const keyName = JSON.stringify(source.data.label);
    checkUploadable(source.data, keyName);
    const param = request.aws_param ?? {};
    const { keySpec, keyUsage } = keySpecAndUsage(source.data, param, keyName);
    const validTo = materialValidTo({ KeyExpiration: request.KeyExpiration, ValidTo: param.ValidTo }, clock.now());
    const plan = linkPlan(request, account.data.accountId);
    const claim = await claimKeyFor(state, access, 'hsmKey', source, account.id, 'source_key_identifier');
    const at = kmsLocation(account, request.region);

    const metadata = await awsKmsKeys.createKey(at, { ...plan.createKey, origin: 'EXTERNAL', keySpec, keyUsage, ...(param.MultiRegion === undefined ? {} : { multiRegion: param.MultiRegion }) });
    const progress: Progress = { step: 'GetParametersForImport' };
    try {
      await this.importFromHsm(at, metadata.KeyId, source, partition, validTo, progress);
      if (plan.alias !== undefined) {
        progress.step = 'CreateAlias';
        await awsKmsKeys.createAlias(at, plan.alias, metadata.KeyId);
      }
      progress.step = 'recording the key';
      const read = await readKmsKey(awsKmsKeys, at, metadata.KeyId, clock.now());
      const now = clock.now().toISOString();
      const data: OtherAwsKeyData = {
        kind: 'byok',
        keyMaterialOrigin: 'cckm',
        keySource: tier,
        localKeyId: source.id,
        localKeyName: source.data.label,
        accountId: account.id,
        region: request.region,
        linkedState: true,
        blocked: false,
        kms: read === 'gone' ? kmsKeySnapshot({ metadata, aliases: plan.alias === undefined ? [] : [plan.alias], tags: plan.createKey.tags ?? [] }, now) : read,
        createdAt: now,
        updatedAt: now,
      };
      // The id synchronization derives for this key too, so that it joins this record (aws-key.ts).
      const id = awsKeyRecordId(metadata.Arn);
      const writes: StateOp[] = [
        { op: 'create', kind: 'awsKey', id, data },
        { op: 'count', kind: 'hsmKey', id: source.id, counter: HSM_KEY_COUNTERS.references, delta: 1, conflictMessage: `HSM key ${source.id} was deleted meanwhile` },
      ];
      await transactWithClaim(state, writes, claim, async () => claimKeyFor(state, access, 'hsmKey', await this.findSourceKey(access, source.id), account.id, 'source_key_identifier'));
      return this.deps.awsKeys.show({ kind: 'awsKey', id, data, version: 1, counters: {} });
    } catch (error) {
      await undoKmsKey(awsKmsKeys, at, metadata.KeyId);
      throw failedAt(error, progress.step, `the KMS key ${metadata.KeyId} was scheduled for deletion (7 days)`);
    }
  }

  /** The uploaded key's material imported again from its HSM key (after it expired or was deleted). */
  async importMaterial(access: Access, id: string, request: ImportKeyMaterialRequest): Promise<AwsKeyResource> {
    const { state, clock } = this.deps;
    const { key, at, keyId, localKeyId } = await this.loadUploaded(access, id);
    const validTo = materialValidTo(request, clock.now(), '');
    const source = await state.get<HsmKeyData>('hsmKey', localKeyId);
    const partition = source && (await state.get<PartitionData>('partition', source.data.partitionId));
    if (source === undefined || partition === undefined) throw new ConflictError(`The HSM key ${localKeyId} of AWS key ${id} no longer exists, so its material cannot be imported again`);
    const progress: Progress = { step: 'GetParametersForImport' };
    try {
      await this.importFromHsm(at, keyId, source, partition, validTo, progress);
    } catch (error) {
      throw failedAt(error, progress.step, `the KMS key ${keyId} is as it was`);
    }
    return this.deps.awsKeys.sync({ key, at, keyId });
  }

  /** DeleteImportedKeyMaterial: the KMS key is PendingImport until its material is imported again. */
  async deleteMaterial(access: Access, id: string): Promise<AwsKeyResource> {
    const { key, at, keyId } = await this.loadUploaded(access, id);
    await this.deps.awsKmsKeys.deleteImportedKeyMaterial(at, keyId);
    return this.deps.awsKeys.sync({ key, at, keyId });
  }

  /** Steps 3: the import parameters, the key wrapped in the HSM with AWS KMS's public key, the import. */
  private async importFromHsm(at: KmsLocation, keyId: string, source: HsmKeyRecord, partition: EntityRecord<PartitionData>, validTo: string | undefined, progress: Progress): Promise<void> {
    const { awsKmsKeys, hsmAgent } = this.deps;
    const algorithm = wrappingAlgorithmFor(source.data, partition.data.hsmType);
    progress.step = 'GetParametersForImport';
    const parameters = await awsKmsKeys.getParametersForImport(at, keyId, algorithm, WRAPPING_KEY_SPEC);
    progress.step = `wrapping the key in the HSM (${algorithm})`;
    const wrapped = await hsmAgent.wrapKeyForImport(hsmKeyRef(source.data, partitionConnection(partition.id, partition.data)), {
      wrappingPublicKey: Buffer.from(parameters.publicKey).toString('base64'),
      algorithm,
    });
    progress.step = 'ImportKeyMaterial';
    await awsKmsKeys.importKeyMaterial(at, keyId, {
      importToken: parameters.importToken,
      encryptedKeyMaterial: Buffer.from(wrapped.encryptedKeyMaterial, 'base64'),
      ...(validTo === undefined ? {} : { validTo }),
    });
  }

  /** An uploaded key the caller may do the route's action on, with where it is in AWS KMS. */
  private async loadUploaded(access: Access, id: string): Promise<{ key: EntityRecord<AwsKeyData>; at: KmsLocation; keyId: string; localKeyId: string }> {
    const { key, account } = await this.deps.awsKeys.load(access, id);
    const keyId = kmsKeyIdOf(key.data);
    if (key.data.kind !== 'byok' || key.data.localKeyId === undefined || keyId === undefined) {
      throw new ConflictError(`${AWS_KEY_RESOURCE} ${id} is not a key uploaded from an HSM key, so it has no key material the key manager can import or delete`);
    }
    if (key.data.gone === true) throw new ConflictError(`AWS KMS has deleted the KMS key of AWS key ${id} (${keyId}); only the record is left`);
    return { key, at: kmsLocationOf(account, key.data.accountId, key.data.region), keyId, localKeyId: key.data.localKeyId };
  }

  /** The HSM key a request names by id or by label (labels are unique per partition, not across them). */
  private async findSourceKey(access: Access, identifier: string): Promise<HsmKeyRecord> {
    const field = 'source_key_identifier';
    const byId = await this.deps.state.get<HsmKeyData>('hsmKey', identifier);
    if (byId !== undefined) return byId;
    const byLabel = (await this.deps.state.list<HsmKeyData>('hsmKey')).filter((key) => key.data.label === identifier);
    if (byLabel.length === 1) return byLabel[0];
    if (byLabel.length > 1 && access.principal.isAdmin) throw new ValidationError(`${byLabel.length} HSM keys are labelled ${JSON.stringify(identifier)} (in different partitions): give the key's id`, field);
    throw missingReferenceFor(access.principal, `no HSM source key has the id or label ${JSON.stringify(identifier)}`, field);
  }
}

/** The failure of `step`, its message saying so and what was done about it; its class (status) kept. */
function failedAt(error: unknown, step: string, note: string): unknown {
  const failure = isError(error, HsmError) ? new DependencyError(`the HSM refused (${error.returnCode ?? error.reason}): ${error.message}`, { cause: error }) : error;
  if (!(failure instanceof Error)) return failure;
  // A 400 keeps naming its field first, as every 400 of the API does.
  const field = isError(failure, ValidationError) && failure.field !== undefined && failure.message.startsWith(`${failure.field}: `) ? failure.field : undefined;
  const said = field === undefined ? failure.message : failure.message.slice(field.length + 2);
  failure.message = `${field === undefined ? '' : `${field}: `}BYOK upload step ${step} failed: ${said}; ${note}`;
  return failure;
}
