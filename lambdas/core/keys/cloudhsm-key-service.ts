/**
 * POST /v1/cckm/aws/custom-key-stores/{id}/create-aws-key (ACL `cloudhsmkeycreate`): a KMS key in
 * a CloudHSM key store (CCKM's "Create a KMS key in a CloudHSM Custom Key Store"). AWS KMS makes
 * the key material in the store's cluster (CreateKey with Origin AWS_CLOUDHSM; the store must be
 * CONNECTED), then the alias is added, and the key becomes an AWS key record of kind `cloudhsm`
 * (`key_material_origin` and `key_source` `CloudHSM`), managed by the AWS key routes.
 *
 * The request is checked whole first (alias required; the policy fields of the HYOK link route,
 * with the same rules). When AWS KMS refuses the alias, or the record cannot be written, the new
 * KMS key is scheduled for deletion (7 days, AWS KMS's shortest), so that nothing is left in use.
 * The store's `awsKeys` counter moves in the record's transaction: the store is not deleted under it.
 */
import type { Access } from '../accounts/access';
import { ValidationError } from '../errors';
import { CLOUDHSM_KEY_STORE_COUNTERS, locationOf } from '../key-stores/cloudhsm-key-store';
import type { CloudHsmKeyStoreService } from '../key-stores/cloudhsm-key-store-service';
import type { AwsKmsKeys } from '../ports/aws-kms-keys';
import type { Clock } from '../ports/clock';
import type { IdGenerator } from '../ports/id-generator';
import type { StateStore } from '../ports/state-store';
import { landedDespite } from '../key-stores/xks-credentials';
import type { OtherAwsKeyData } from './aws-key';
import { awsKeyRecordId, kmsKeySnapshot } from './aws-key';
import type { AwsKeyResource } from './aws-key-resource';
import { present, relatedOf } from './aws-key-views';
import { createKmsKeyWithAlias, linkPlan, undoKmsKey } from './hyok-key-link';
import { readKmsKey } from './kms-key-reads';
import type { CreateCloudHsmKeyRequest } from '../../contract/key-schemas';

/** The seeds' body: AWS's key parameters (`Alias` required; the service says so) and the policy shortcuts. */
export type { CreateCloudHsmKeyRequest };

export interface CloudHsmKeyServiceDeps {
  readonly state: StateStore;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly awsKmsKeys: AwsKmsKeys;
  readonly cloudHsmKeyStores: CloudHsmKeyStoreService;
}

export class CloudHsmKeyService {
  constructor(private readonly deps: CloudHsmKeyServiceDeps) {}

  async create(access: Access, keyStoreId: string, request: CreateCloudHsmKeyRequest): Promise<AwsKeyResource> {
    const { state, clock, awsKmsKeys } = this.deps;
    if (request.aws_param?.Alias === undefined) throw new ValidationError('is required: the alias of the new KMS key', 'aws_param.Alias');
    const { store, account } = await this.deps.cloudHsmKeyStores.load(access, keyStoreId);
    const at = locationOf(store, account);
    const plan = linkPlan(request, at.accountId);
    const metadata = await createKmsKeyWithAlias(awsKmsKeys, at, plan, { cloudHsmKeyStore: { customKeyStoreId: store.data.customKeyStoreId } }, 'no AWS key was recorded');
    const read = await readKmsKey(awsKmsKeys, at, metadata.KeyId, clock.now()).catch(() => undefined);
    const now = clock.now().toISOString();
    const snapshot = read === undefined || read === 'gone' ? kmsKeySnapshot({ metadata, aliases: plan.alias ? [plan.alias] : [], tags: plan.createKey.tags ?? [] }, now) : read;
    // The id synchronization derives for this key too, so that it joins this record (aws-key.ts).
    const id = awsKeyRecordId(metadata.Arn);
    const data: OtherAwsKeyData = {
      kind: 'cloudhsm',
      keyMaterialOrigin: 'CloudHSM',
      keySource: 'CloudHSM',
      customKeyStoreId: store.id,
      accountId: store.data.accountId,
      region: store.data.region,
      linkedState: true,
      blocked: false,
      kms: snapshot,
      createdAt: now,
      updatedAt: now,
    };
    try {
      await state.transact([
        { op: 'create', kind: 'awsKey', id, data },
        { op: 'count', kind: 'cloudHsmKeyStore', id: store.id, counter: CLOUDHSM_KEY_STORE_COUNTERS.awsKeys, delta: 1, conflictMessage: `CloudHSM key store ${store.id} was deleted meanwhile` },
      ]);
    } catch (error) {
      if (!(await landedDespite(error, async () => (await state.get('awsKey', id)) !== undefined))) {
        await undoKmsKey(awsKmsKeys, at, metadata.KeyId);
        throw error;
      }
    }
    const record = { kind: 'awsKey' as const, id, data, version: 1, counters: {} };
    return present(record, await relatedOf(state, data));
  }
}
