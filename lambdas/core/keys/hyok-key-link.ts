/**
 * Linking an HYOK key: creating its KMS key in AWS KMS, in the linked external key store it is in
 * (CreateKey with Origin EXTERNAL_KEY_STORE, the store's `cks-` id and the HYOK key's external key
 * id; AWS KMS asks the proxy for that key before it answers), with the description, tags and
 * policy the request gives, then its alias. The request is checked whole before AWS KMS is called;
 * when the alias is refused after the key was made, the new KMS key is scheduled for deletion
 * (AWS KMS's shortest window, 7 days) so that nothing is left in use.
 */
import { ConflictError } from '../errors';
import type { KmsLocation } from '../ports/aws-kms';
import type { AwsKmsKeys, CreateKmsKeyRequest, KmsKeyMetadata } from '../ports/aws-kms-keys';
import { aliasName, externalKeyId } from './aws-key';
import { keyPolicyFor, POLICY_SHORTCUTS } from './key-policy';
import type { LinkHyokKeyRequest } from '../../contract/aws-key-schemas';

/** The seeds' link parameters (also those of create-hyok-key): AWS's key parameters and the policy shortcuts. */
export type { LinkHyokKeyRequest };

/** Whether a create-hyok-key request asks for the KMS key too. */
export function asksToLink(request: LinkHyokKeyRequest): boolean {
  return request.aws_param !== undefined || request.policytemplate !== undefined || POLICY_SHORTCUTS.some((name) => request[name] !== undefined);
}

export interface LinkPlan {
  readonly createKey: Omit<CreateKmsKeyRequest, 'externalKeyStore'>;
  readonly alias?: string;
}

/** The checked request: 400 naming the field for a bad or conflicting policy parameter. */
export function linkPlan(request: LinkHyokKeyRequest, accountId: string): LinkPlan {
  const param = request.aws_param ?? {};
  const shortcuts = Object.fromEntries(POLICY_SHORTCUTS.map((name) => [name, request[name]]));
  const policy = keyPolicyFor({ document: param.Policy, documentField: 'aws_param.Policy', shortcuts, policytemplate: request.policytemplate }, accountId);
  return {
    createKey: {
      ...(param.Description === undefined ? {} : { description: param.Description }),
      ...(policy === undefined ? {} : { policy }),
      ...(param.BypassPolicyLockoutSafetyCheck === undefined ? {} : { bypassPolicyLockoutSafetyCheck: param.BypassPolicyLockoutSafetyCheck }),
      ...(param.Tags === undefined || param.Tags.length === 0 ? {} : { tags: param.Tags }),
    },
    ...(param.Alias === undefined ? {} : { alias: aliasName(param.Alias) }),
  };
}

/** Creates the KMS key of HYOK key `hyokKeyId` in AWS KMS store `customKeyStoreId`, and its alias. */
export function createKmsKey(kms: AwsKmsKeys, at: KmsLocation, plan: LinkPlan, target: { readonly hyokKeyId: string; readonly customKeyStoreId: string }): Promise<KmsKeyMetadata> {
  return createKmsKeyWithAlias(kms, at, plan, { externalKeyStore: { customKeyStoreId: target.customKeyStoreId, xksKeyId: externalKeyId(target.hyokKeyId) } }, 'the HYOK key left unlinked');
}

/**
 * CreateKey with the plan's parameters where `placement` says (an external or a CloudHSM key
 * store), then the plan's alias; an alias refused schedules the new key's deletion, and the error
 * says so, ending with `leftNote` (what is left of the request).
 */
export async function createKmsKeyWithAlias(
  kms: AwsKmsKeys,
  at: KmsLocation,
  plan: LinkPlan,
  placement: Pick<CreateKmsKeyRequest, 'externalKeyStore' | 'cloudHsmKeyStore'>,
  leftNote: string,
): Promise<KmsKeyMetadata> {
  const metadata = await kms.createKey(at, { ...plan.createKey, ...placement });
  if (plan.alias !== undefined) {
    try {
      await kms.createAlias(at, plan.alias, metadata.KeyId);
    } catch (error) {
      await undoKmsKey(kms, at, metadata.KeyId);
      throw withNote(error, `; the new KMS key ${metadata.KeyId} was scheduled for deletion (7 days) and ${leftNote}`);
    }
  }
  return metadata;
}

/** Schedules the deletion of a KMS key just created for a link that did not complete. */
export async function undoKmsKey(kms: AwsKmsKeys, at: KmsLocation, keyId: string): Promise<void> {
  await kms.scheduleKeyDeletion(at, keyId, 7).catch(() => undefined);
}

/** The error with `note` added to its message (its class, so its status, unchanged). */
function withNote(error: unknown, note: string): unknown {
  if (error instanceof Error) error.message = `${error.message}${note}`;
  return error;
}

/** 409 unless the key store is linked to AWS KMS (its `cks-` id is known). */
export function requireLinkedStore(storeId: string, customKeyStoreId: string | undefined): string {
  if (customKeyStoreId === undefined) {
    throw new ConflictError(`Key store ${storeId} is not linked to AWS KMS, so no KMS key can be created in it: link the key store first (POST /v1/cckm/aws/custom-key-stores/${storeId}/link)`);
  }
  return customKeyStoreId;
}
