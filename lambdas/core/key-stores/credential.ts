/**
 * XKS credentials of an external key store. Their metadata lives inside the key store record (the
 * store's `credentials`, oldest first), so that the store's version guards the set: a rotation that
 * adds one and drops the oldest is one conditional write, and concurrent rotations can never leave
 * more than `max_credentials`. The secret access key lives only in the SecretStore under
 * `secretNames.xksCredential(storeId, credentialId)`.
 */
import { secretNames } from '../secret-names';
import { envelope, type ResourceEnvelope, type Timestamps } from '../resource';

export interface XksCredentialData extends Timestamps {
  readonly id: string;
  readonly accessKeyId: string;
  /** 1 for the store's first credential, +1 for every credential created after it. */
  readonly version: number;
}

/** A credential as the API shows it (seeds: "Create Credential", "List Credentials"). Never the secret. */
export interface XksCredentialResource extends ResourceEnvelope {
  readonly custom_key_store_id: string;
  readonly version: number;
  readonly access_key_id: string;
  /** Where the secret is kept (its SecretStore name): an identifier, not the secret. */
  readonly secret_access_key_id: string;
  readonly cloud_name: 'aws';
  /** When the XKS proxy last saw AWS KMS authenticate with it (recorded at most once a minute); absent when never. */
  readonly last_used_at?: string;
}

export function credentialResource(keyStoreId: string, credential: XksCredentialData, lastUsedAt?: Date): XksCredentialResource {
  return {
    ...envelope('aws_cks_credentials', credential.id, credential),
    custom_key_store_id: keyStoreId,
    version: credential.version,
    access_key_id: credential.accessKeyId,
    secret_access_key_id: secretNames.xksCredential(keyStoreId, credential.id),
    cloud_name: 'aws',
    ...(lastUsedAt === undefined ? {} : { last_used_at: lastUsedAt.toISOString() }),
  };
}
