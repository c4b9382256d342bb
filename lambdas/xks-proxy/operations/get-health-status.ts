/**
 * GetHealthStatus (the XKS Proxy API spec): the deep health check of the store's HSM partition,
 * and what the spec asks the proxy to say about itself and the key manager behind it.
 *
 * Input: the spec's error table lists ValidationException for every API except this one, and the
 * request's only fields (`kmsRequestId`, `kmsOperation`) exist to be logged. So a body that lacks
 * them, or is no JSON object at all, is answered like any other health request; the log line
 * then goes without them. (AWS's curl-based test client expects ValidationException for a health
 * request without requestMetadata; this proxy follows the spec's table, see README.)
 */
import type { HsmType } from '../../contract/hsm';
import type { EkmHealthStatus } from '../health/deep-health-check';
import { parseJsonObjectIfAny, type JsonObject, type RequestMetadata } from './request-fields';
import type { StoreContext, StoreOperation } from './operation';

/** Request payload, per the XKS Proxy API spec. */
export interface GetHealthStatusRequest {
  /** Whatever of kmsRequestId and kmsOperation the body carries as strings. */
  readonly requestMetadata: Partial<Pick<RequestMetadata, 'kmsRequestId' | 'kmsOperation'>>;
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

/**
 * One entry per HSM of the store's partition, each as its own latest check found it (never HSM
 * work on this request when a result ≤ 30 s old exists, see health/health-monitor.ts). HSMs that
 * cannot serve are a 200 with UNAVAILABLE, as the spec defines the status, not an error: KMS
 * reads the store as unavailable only when every entry is.
 */
async function enact({ store, health, proxyInfo, deadlineAt }: StoreContext): Promise<GetHealthStatusResponse> {
  const fleet = await health.current(store, deadlineAt);
  const ekm = EKM_BY_HSM_TYPE[store.partition.hsmType];
  return {
    xksProxyFleetSize: proxyInfo.fleetSize,
    xksProxyVendor: proxyInfo.vendor,
    xksProxyModel: proxyInfo.model,
    ekmVendor: ekm.vendor,
    ekmFleetDetails: fleet.members.map((member) => ({ id: member.id, model: ekm.model, healthStatus: member.status })),
  };
}

export function parseGetHealthStatusRequest(body: JsonObject): GetHealthStatusRequest {
  const metadata = body.requestMetadata;
  const fields = typeof metadata === 'object' && metadata !== null ? (metadata as JsonObject) : {};
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  return { requestMetadata: { kmsRequestId: text(fields.kmsRequestId), kmsOperation: text(fields.kmsOperation) } };
}

export const getHealthStatus: StoreOperation<GetHealthStatusRequest> = {
  scope: 'store',
  readBody: parseJsonObjectIfAny,
  parse: parseGetHealthStatusRequest,
  enact,
};
