/**
 * Provisioning an external key store the way an operator does, through the management API of a
 * running local system (bin/local.ts): an account container, two AES-256 keys generated in the
 * `local-softhsm` partition, the key store (whose response carries its first credential) and an
 * HYOK key. Used by the end-to-end XKS test and by `npm run bench:xks`.
 */
import { randomBytes } from 'node:crypto';

export interface ManagementApi {
  readonly apiUrl: string;
  readonly adminToken: string;
}

export interface ApiProvisionedStore {
  readonly storeId: string;
  readonly region: string;
  /** The store's `xks_proxy_uri_path`, as the API reports it. */
  readonly uriPath: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** `aws_param.XksKeyConfiguration.Id` of the HYOK key. */
  readonly externalKeyId: string;
}

export async function callApi<T>(api: ManagementApi, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${api.apiUrl}${path}`, {
    method,
    headers: { Authorization: `Bearer ${api.adminToken}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  if (response.status >= 300) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

export async function provisionThroughApi(api: ManagementApi, options: { readonly region?: string; readonly enableSuccessAuditEvent?: boolean } = {}): Promise<ApiProvisionedStore> {
  const region = options.region ?? 'us-east-1';
  const suffix = randomBytes(3).toString('hex');
  const account = await callApi<{ id: string; name: string }>(api, 'POST', '/v1/cckm/aws/kms', { name: `xks-${suffix}`, account_id: '111122223333', regions: [region] });
  const partitions = await callApi<{ resources: { id: string; name: string }[] }>(api, 'GET', '/v1/cckm/hsm/partitions?limit=100');
  const partition = partitions.resources.find((p) => p.name === 'local-softhsm');
  if (!partition) throw new Error('the local system has no local-softhsm partition');
  const newKey = (label: string) =>
    callApi<{ id: string }>(api, 'POST', '/v1/cckm/hsm/keys', {
      partition_id: partition.id,
      label,
      mechanism: 'CKM_AES_KEY_GEN',
      size: 256,
      attributes: ['CKA_ENCRYPT', 'CKA_DECRYPT', 'CKA_WRAP', 'CKA_UNWRAP', 'CKA_SENSITIVE'],
    });
  const healthCheckKey = await newKey(`xks-health-${suffix}`);
  const sourceKey = await newKey(`xks-source-${suffix}`);
  const store = await callApi<{ id: string; access_key_id: string; secret_access_key: string; aws_param: { xks_proxy_uri_path: string } }>(api, 'POST', '/v1/cckm/aws/custom-key-stores', {
    name: `xks-store-${suffix}`,
    kms: account.name,
    region,
    enable_success_audit_event: options.enableSuccessAuditEvent ?? false,
    local_hosted_params: { partition_id: partition.id, health_check_key_id: healthCheckKey.id, max_credentials: 2 },
    aws_param: { xks_proxy_uri_endpoint: 'https://xks.example.com', xks_proxy_connectivity: 'PUBLIC_ENDPOINT' },
  });
  const hyok = await callApi<{ aws_param: { XksKeyConfiguration: { Id: string } } }>(api, 'POST', '/v1/cckm/aws/create-hyok-key', {
    local_hosted_params: { source_key_id: sourceKey.id, custom_key_store_id: store.id },
  });
  return {
    storeId: store.id,
    region,
    uriPath: store.aws_param.xks_proxy_uri_path,
    accessKeyId: store.access_key_id,
    secretAccessKey: store.secret_access_key,
    externalKeyId: hyok.aws_param.XksKeyConfiguration.Id,
  };
}
