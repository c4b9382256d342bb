/**
 * GetHealthStatus (xks_proxy_api_spec.md): the deep health check of the store's HSM partition,
 * and what the spec asks the proxy to say about itself and the key manager behind it.
 */
import type { HsmType } from '../../contract/hsm';
import type { EkmHealthStatus } from '../health/deep-health-check';
import { requestMetadata, type JsonObject, type RequestMetadata } from './request-fields';
import type { StoreContext, StoreOperation } from './operation';

/** Request payload, per the XKS Proxy API spec. */
export interface GetHealthStatusRequest {
  readonly requestMetadata: RequestMetadata;
}

/** Response payload, per the XKS Proxy API spec. */
export interface GetHealthStatusResponse {
  readonly xksProxyFleetSize: number;
  readonly xksProxyVendor: string;
  readonly xksProxyModel: string;
  readonly ekmVendor: string;
  readonly ekmFleetDetails: readonly { readonly id: string; readonly model: string; readonly healthStatus: EkmHealthStatus }[];
}

const EKM_BY_HSM_TYPE: Readonly<Record<HsmType, { readonly vendor: string; readonly model: string }>> = {
  luna: { vendor: 'Thales', model: 'Luna Network HSM (PKCS#11)' },
  cloudhsm: { vendor: 'Amazon Web Services', model: 'AWS CloudHSM (PKCS#11)' },
  softhsm: { vendor: 'OpenDNSSEC', model: 'SoftHSM v2 (PKCS#11)' },
};

async function enact({ store, healthCheck, proxyInfo }: StoreContext): Promise<GetHealthStatusResponse> {
  const result = await healthCheck.check(store.healthCheckKey);
  if (!result.ok) throw result.error;
  const ekm = EKM_BY_HSM_TYPE[store.partition.hsmType];
  return {
    xksProxyFleetSize: proxyInfo.fleetSize,
    xksProxyVendor: proxyInfo.vendor,
    xksProxyModel: proxyInfo.model,
    ekmVendor: ekm.vendor,
    ekmFleetDetails: [{ id: store.partition.partitionId, model: ekm.model, healthStatus: result.status }],
  };
}

export function parseGetHealthStatusRequest(body: JsonObject): GetHealthStatusRequest {
  return { requestMetadata: requestMetadata(body, { awsPrincipalArn: false, kmsKeyArn: false }) };
}

export const getHealthStatus: StoreOperation<GetHealthStatusRequest> = {
  scope: 'store',
  parse: parseGetHealthStatusRequest,
  enact,
};
