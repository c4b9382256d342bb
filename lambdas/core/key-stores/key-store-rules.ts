/**
 * Field rules of external key store requests that need more than a JSON schema (each throws a
 * ValidationError naming the field): endpoint, connectivity, mTLS and health-check key.
 */
import type { HsmKeyInfo, KeyAttributeName } from '../../contract/hsm';
import { ValidationError } from '../errors';
import type { XksProxyConnectivity } from './key-store';

const HOSTNAME_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** A DNS name: labels of letters, digits and inner hyphens, at most 253 characters, not all-numeric at the end. */
function isDnsName(host: string): boolean {
  const labels = host.split('.');
  return host.length > 0 && host.length <= 253 && labels.every((label) => HOSTNAME_LABEL.test(label)) && !/^\d+$/.test(labels[labels.length - 1]);
}

/** `mtls_client_subject_cn`: a DNS name (what a certificate's CN names here). */
export function checkClientSubjectCn(value: string, field: string): string {
  if (!isDnsName(value)) throw new ValidationError('must be a DNS name, e.g. cks.kms.us-east-1.amazonaws.com', field);
  return value;
}

/**
 * `xks_proxy_uri_endpoint`: `https://` followed by a DNS name, nothing else (AWS KMS sends to
 * port 443 and adds the path itself). At most 128 characters, as AWS KMS allows.
 */
export function checkXksProxyUriEndpoint(value: string, field: string): string {
  const hint = 'must be https://<fully qualified domain name>, without port, path, query or trailing slash (e.g. https://xks.example.com)';
  if (value.length > 128 || !value.startsWith('https://')) throw new ValidationError(hint, field);
  if (!isDnsName(value.slice('https://'.length))) throw new ValidationError(hint, field);
  return value;
}

/** AWS's VPC endpoint service name, e.g. `com.amazonaws.vpce.us-east-1.vpce-svc-03d5ed`. */
const VPC_ENDPOINT_SERVICE_NAME = /^com\.amazonaws\.vpce\.[a-z0-9-]+\.vpce-svc-[0-9a-z]+$/;

export function checkVpcEndpointServiceName(value: string, field: string): string {
  if (value.length > 64 || !VPC_ENDPOINT_SERVICE_NAME.test(value)) {
    throw new ValidationError('must be a VPC endpoint service name like com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0', field);
  }
  return value;
}

/**
 * Connectivity and VPC endpoint service name together: `VPC_ENDPOINT_SERVICE` requires a name;
 * `PUBLIC_ENDPOINT` carries none.
 */
export function resolveConnectivity(
  connectivity: XksProxyConnectivity,
  vpcEndpointServiceName: string | undefined,
): { xksProxyConnectivity: XksProxyConnectivity; xksProxyVpcEndpointServiceName?: string } {
  if (connectivity === 'VPC_ENDPOINT_SERVICE') {
    if (vpcEndpointServiceName === undefined) {
      throw new ValidationError(
        'is required when aws_param.xks_proxy_connectivity is VPC_ENDPOINT_SERVICE',
        'aws_param.xks_proxy_vpc_endpoint_service_name',
      );
    }
    return {
      xksProxyConnectivity: connectivity,
      xksProxyVpcEndpointServiceName: checkVpcEndpointServiceName(vpcEndpointServiceName, 'aws_param.xks_proxy_vpc_endpoint_service_name'),
    };
  }
  if (vpcEndpointServiceName !== undefined) {
    throw new ValidationError(
      'is only allowed when aws_param.xks_proxy_connectivity is VPC_ENDPOINT_SERVICE',
      'aws_param.xks_proxy_vpc_endpoint_service_name',
    );
  }
  return { xksProxyConnectivity: connectivity };
}

/** Attributes a health-check key must have, with the value each must have (CCKM's key store docs). */
export const HEALTH_CHECK_KEY_ATTRIBUTES: ReadonlyArray<readonly [KeyAttributeName, boolean]> = [
  ['CKA_EXTRACTABLE', false],
  ['CKA_SENSITIVE', true],
  ['CKA_ENCRYPT', true],
  ['CKA_DECRYPT', true],
  ['CKA_WRAP', true],
  ['CKA_UNWRAP', true],
];

/** The key facts the checks below read: what the HSM reported when the key was created. */
export type SourceKeyFacts = Pick<HsmKeyInfo, 'keyType' | 'sizeBits' | 'attributes'>;

/** An AES-256 key: the only kind AWS KMS external keys (and health checks) can use. */
export function checkAes256(key: SourceKeyFacts, field: string): void {
  if (key.keyType !== 'AES' || key.sizeBits !== 256) {
    throw new ValidationError(`must be an AES-256 key; this one is ${key.keyType === 'AES' ? `AES-${key.sizeBits}` : `not an AES key (${key.keyType})`}`, field);
  }
}

/** A health-check key: AES-256 with the attributes above; the message lists every attribute that is off. */
export function checkHealthCheckKey(key: SourceKeyFacts, field: string): void {
  checkAes256(key, field);
  const wrong = HEALTH_CHECK_KEY_ATTRIBUTES.filter(([name, expected]) => key.attributes[name] !== expected).map(
    ([name, expected]) => `${name}=${expected ? 'true' : 'false'}`,
  );
  if (wrong.length > 0) {
    throw new ValidationError(`is not usable as a health-check key: it needs ${wrong.join(', ')}`, field);
  }
}

/**
 * `mtls_enabled: true` only where the deployment verifies XKS client certificates (the ALB's trust
 * store): without one no client certificate ever reaches the proxy, so such a store would refuse
 * every request.
 */
export function refuseMtlsWithoutTrustStore(mtlsEnabled: boolean | undefined, mtlsTrustStore: boolean): void {
  if (mtlsEnabled === true && !mtlsTrustStore) {
    throw new ValidationError(
      'cannot be true: this deployment has no mutual-TLS trust store, so no client certificate would reach the proxy (deploy with mtlsTrustStoreBucket and mtlsTrustStoreKey)',
      'local_hosted_params.mtls_enabled',
    );
  }
}
