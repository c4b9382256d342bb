/**
 * AWS_CLOUDHSM custom key stores, as AWS KMS checks them (the CreateCustomKeyStore,
 * UpdateCustomKeyStore and ConnectCustomKeyStore pages of the SDK's models):
 *
 * - create: the cluster exists in the account and region (CloudHsmClusterNotFoundException), no
 *   other store uses it or a cluster of its backup lineage (CloudHsmClusterInUseException), it is
 *   ACTIVE (CloudHsmClusterNotActiveException), the trust anchor is the certificate that issued
 *   the cluster's certificate (IncorrectTrustAnchorException), and it has active HSMs in at least
 *   two availability zones (CloudHsmClusterInvalidConfigurationException);
 * - update (only while DISCONNECTED, except the name): KeyStorePassword, and CloudHsmClusterId
 *   for a cluster of the same backup lineage (CloudHsmClusterNotRelatedException);
 * - connect: refused at once (CloudHsmClusterNotActiveException) for a cluster that is not ACTIVE;
 *   otherwise logs in to the cluster's token as kmsuser with the store's password; FAILED with
 *   CLUSTER_NOT_FOUND, INSUFFICIENT_CLOUDHSM_HSMS, INVALID_CREDENTIALS or USER_LOCKED_OUT.
 *
 * The password is what KMS keeps for the store (in its state, like AWS keeps it); it is never
 * returned or logged.
 */
import { X509Certificate } from 'node:crypto';
import { AwsError, validationError } from '../aws-error';
import { requiredString, optionalString } from '../input';
import type { JsonObject, OperationContext, StandInModule } from '../operation-registry';
import { activeHsms, clustersOf, type CloudHsmClusterRecord } from '../cloudhsm/cluster-record';
import { clusterHsms } from '../cloudhsm/cluster-hsm';
import { customKeyStoresOf, type CustomKeyStoreRecord } from './custom-key-store-record';
import { cloudHsmOrigin } from './cloudhsm-origin';
import type { ConnectOutcome, CustomKeyStoreTypeProvider } from './custom-key-store-types';

const CLUSTER_ID = { min: 19, max: 24 } as const;
const TRUST_ANCHOR = { min: 1, max: 5000 } as const;
const PASSWORD = { min: 7, max: 32 } as const;
const XKS_FIELDS = ['XksProxyUriEndpoint', 'XksProxyUriPath', 'XksProxyVpcEndpointServiceName', 'XksProxyVpcEndpointServiceOwner', 'XksProxyAuthenticationCredential', 'XksProxyConnectivity'];

export const cloudHsmKeyStoreType: CustomKeyStoreTypeProvider = {
  type: 'AWS_CLOUDHSM',

  async create(input, context) {
    refuseXksFields(input);
    const clusterId = requiredString(input, 'CloudHsmClusterId', CLUSTER_ID);
    const trustAnchor = requiredString(input, 'TrustAnchorCertificate', TRUST_ANCHOR);
    const keyStorePassword = requiredString(input, 'KeyStorePassword', PASSWORD);
    const cluster = findCluster(context, clusterId);
    const user = storeUsingLineage(context, cluster);
    if (user) {
      throw new AwsError('CloudHsmClusterInUseException', `Cluster ${clusterId} is already associated with custom key store ${user.customKeyStoreId}, or shares a backup history with its cluster.`);
    }
    requireActive(cluster);
    if (!issuedBy(cluster, trustAnchor)) {
      throw new AwsError('IncorrectTrustAnchorException', `The trust anchor certificate in the request is not the trust anchor certificate for cluster ${clusterId}.`);
    }
    requireTwoZones(cluster);
    return { cloudHsm: { cloudHsmClusterId: clusterId, trustAnchorCertificate: trustAnchor, keyStorePassword } };
  },

  async update(input, store, context) {
    refuseXksFields(input);
    const clusterId = optionalString(input, 'CloudHsmClusterId', CLUSTER_ID);
    const password = optionalString(input, 'KeyStorePassword', PASSWORD);
    const fields = store.cloudHsm;
    if (!fields) throw new AwsError('KMSInternalException', 'The custom key store has no CloudHSM settings.', 500);
    if ((clusterId !== undefined || password !== undefined) && store.connectionState !== 'DISCONNECTED') {
      throw new AwsError(
        'CustomKeyStoreInvalidStateException',
        `Custom key store ${store.customKeyStoreId} must be DISCONNECTED to change its CloudHsmClusterId or KeyStorePassword; it is ${store.connectionState}.`,
      );
    }
    const updated: CustomKeyStoreRecord = { ...store, cloudHsm: { ...fields } };
    if (clusterId !== undefined && clusterId !== fields.cloudHsmClusterId) {
      const cluster = findCluster(context, clusterId);
      const original = clustersOf(context.state).get(fields.cloudHsmClusterId);
      // Clusters of one backup lineage share the cluster certificate; with the original gone, that is what is left to compare.
      const related = original ? original.backupLineage === cluster.backupLineage : issuedBy(cluster, fields.trustAnchorCertificate);
      if (!related) {
        throw new AwsError('CloudHsmClusterNotRelatedException', `Cluster ${clusterId} does not share a backup history with cluster ${fields.cloudHsmClusterId}.`);
      }
      requireActive(cluster);
      requireTwoZones(cluster);
      updated.cloudHsm!.cloudHsmClusterId = clusterId;
    }
    if (password !== undefined) updated.cloudHsm!.keyStorePassword = password;
    return updated;
  },

  checkConnect(store, context) {
    const cluster = store.cloudHsm ? clustersOf(context.state).get(store.cloudHsm.cloudHsmClusterId) : undefined;
    // A cluster that is gone is the connection attempt's CLUSTER_NOT_FOUND, not a refusal.
    if (cluster && cluster.state !== 'DELETED' && cluster.state !== 'DELETE_IN_PROGRESS') requireActive(cluster);
  },

  async connect(store, context): Promise<ConnectOutcome> {
    const fields = store.cloudHsm;
    const cluster = fields ? clustersOf(context.state).get(fields.cloudHsmClusterId) : undefined;
    if (!fields || !cluster || cluster.state === 'DELETED' || cluster.state === 'DELETE_IN_PROGRESS') {
      return { connectionState: 'FAILED', connectionErrorCode: 'CLUSTER_NOT_FOUND' };
    }
    if (activeHsms(cluster).length === 0) return { connectionState: 'FAILED', connectionErrorCode: 'INSUFFICIENT_CLOUDHSM_HSMS' };
    const result = await clusterHsms().login({ customKeyStoreId: store.customKeyStoreId, tokenLabel: cluster.tokenLabel, password: fields.keyStorePassword });
    if (result.ready) return { connectionState: 'CONNECTED' };
    return { connectionState: 'FAILED', connectionErrorCode: connectionErrorCodeFor(result.message) };
  },

  describe(store) {
    return store.cloudHsm
      ? { CloudHsmClusterId: store.cloudHsm.cloudHsmClusterId, TrustAnchorCertificate: store.cloudHsm.trustAnchorCertificate }
      : {};
  },
};

/** The PKCS#11 login failure as ConnectCustomKeyStore reports it. */
function connectionErrorCodeFor(message: string): string {
  if (message === 'CKR_PIN_LOCKED') return 'USER_LOCKED_OUT';
  if (/^CKR_PIN_(INCORRECT|INVALID|LEN_RANGE|EXPIRED)$/.test(message) || message === 'CKR_USER_PIN_NOT_INITIALIZED') return 'INVALID_CREDENTIALS';
  if (/token not found|CKR_TOKEN_NOT_PRESENT|CKR_TOKEN_NOT_RECOGNIZED|CKR_SLOT_ID_INVALID/i.test(message)) return 'INSUFFICIENT_CLOUDHSM_HSMS';
  return 'INTERNAL_ERROR';
}

function refuseXksFields(input: JsonObject): void {
  const given = XKS_FIELDS.find((field) => input[field] !== undefined && input[field] !== null);
  if (given) throw validationError(given, input[given], `${given} is not valid for a custom key store of type AWS_CLOUDHSM`);
}

function findCluster(context: OperationContext, clusterId: string): CloudHsmClusterRecord {
  const cluster = clustersOf(context.state).get(clusterId);
  if (!cluster || cluster.state === 'DELETED') {
    throw new AwsError('CloudHsmClusterNotFoundException', `Cluster ${clusterId} does not exist in account ${context.caller.accountId} in ${context.region}.`);
  }
  return cluster;
}

function requireActive(cluster: CloudHsmClusterRecord): void {
  if (cluster.state !== 'ACTIVE') throw new AwsError('CloudHsmClusterNotActiveException', `Cluster ${cluster.clusterId} is ${cluster.state}; it must be ACTIVE.`);
}

function requireTwoZones(cluster: CloudHsmClusterRecord): void {
  const zones = new Set(activeHsms(cluster).map((hsm) => hsm.availabilityZone));
  if (zones.size < 2) {
    throw new AwsError(
      'CloudHsmClusterInvalidConfigurationException',
      `Cluster ${cluster.clusterId} must have at least two active HSMs, each in a different Availability Zone; it has active HSMs in ${zones.size}.`,
    );
  }
}

/** The store that already uses this cluster or one of its backup lineage. */
function storeUsingLineage(context: OperationContext, cluster: CloudHsmClusterRecord): CustomKeyStoreRecord | undefined {
  const clusters = clustersOf(context.state);
  return customKeyStoresOf(context.state)
    .values()
    .find((store) => {
      if (!store.cloudHsm) return false;
      if (store.cloudHsm.cloudHsmClusterId === cluster.clusterId) return true;
      return clusters.get(store.cloudHsm.cloudHsmClusterId)?.backupLineage === cluster.backupLineage;
    });
}

/** Whether this PEM certificate is the self-signed trust anchor that issued the cluster's certificate. */
function issuedBy(cluster: CloudHsmClusterRecord, trustAnchorPem: string): boolean {
  try {
    const anchor = new X509Certificate(trustAnchorPem);
    const clusterCertificate = new X509Certificate(cluster.clusterCertificate);
    return anchor.verify(anchor.publicKey) && clusterCertificate.checkIssued(anchor) && clusterCertificate.verify(anchor.publicKey);
  } catch {
    return false; // not a PEM certificate at all
  }
}

/** AWS_CLOUDHSM key stores and the keys in them. */
export const cloudHsmKeyStores: StandInModule = {
  name: 'kms-cloudhsm-key-stores',
  register(registry) {
    registry.customKeyStoreType(cloudHsmKeyStoreType);
    registry.keyOrigin(cloudHsmOrigin);
  },
};
