/**
 * EXTERNAL_KEY_STORE custom key stores, as AWS KMS checks them (CreateCustomKeyStore and
 * UpdateCustomKeyStore in the SDK's models and the AWS developer guide):
 *
 * - create: URI endpoint (`https://` host), URI path (`[/prefix]/kms/xks/v<n>`), connectivity
 *   (PUBLIC_ENDPOINT, or VPC_ENDPOINT_SERVICE with its service name and optional owner), and the
 *   proxy authentication credential; endpoint + path unique in the account and region
 *   (XksProxyUriInUseException), a VPC store's endpoint and service unique too
 *   (XksProxyUriEndpointInUseException, XksProxyVpcEndpointServiceInUseException); then
 *   GetHealthStatus must succeed with the new settings;
 * - update: the name, credential and path may change while CONNECTED or DISCONNECTED;
 *   connectivity, endpoint and VPC endpoint service only while DISCONNECTED; changed proxy
 *   settings are tried with GetHealthStatus first;
 * - connect: GetHealthStatus; CONNECTED, or FAILED with the ConnectionErrorCode of the failure;
 *   while CONNECTED, GetHealthStatus every `xksHealthCheckIntervalMs` (as AWS KMS polls its
 *   proxies; the outcome is logged, as AWS reports it in CloudWatch metrics).
 */
import { AwsError, validationError } from '../aws-error';
import { optionalEnum, optionalObject, optionalString, requiredString } from '../input';
import type { JsonObject, OperationContext, StandInModule, StandInRuntime } from '../operation-registry';
import { backgroundContext, storeInvalidState } from './custom-key-store-operations';
import { customKeyStoresOf, type XksStoreFields } from './custom-key-store-record';
import type { ConnectOutcome, CustomKeyStoreTypeProvider } from './custom-key-store-types';
import { externalKeyStoreOrigin } from './external-key-store-origin';
import { CUSTOM_KEY_STORES } from './key-record';
import { allEkmsUnavailable, connectionErrorCodeFor, kmsErrorForXksFailure } from './xks-errors';
import type { XksCallFailure } from './xks-proxy-client';

const URI_ENDPOINT = { min: 10, max: 128, pattern: /^https:\/\/[a-zA-Z0-9.-]+$/ };
const URI_PATH = { min: 10, max: 128, pattern: /^(\/[a-zA-Z0-9/_-]+\/kms\/xks\/v\d{1,2})$|^(\/kms\/xks\/v\d{1,2})$/ };
const VPC_SERVICE_NAME = { min: 20, max: 64, pattern: /^com\.amazonaws\.vpce\.([a-z]+-){2,3}\d+\.vpce-svc-[0-9a-z]+$/ };
const VPC_SERVICE_OWNER = { min: 12, max: 12, pattern: /^[0-9]{12}$/ };
const ACCESS_KEY_ID = { min: 20, max: 30, pattern: /^[A-Z2-7]+$/ };
const RAW_SECRET = { min: 43, max: 64, pattern: /^[a-zA-Z0-9/+=]+$/ };
const CLOUDHSM_FIELDS = ['CloudHsmClusterId', 'TrustAnchorCertificate', 'KeyStorePassword'];
const CONNECTIVITIES = ['PUBLIC_ENDPOINT', 'VPC_ENDPOINT_SERVICE'] as const;

function refuseCloudHsmFields(input: JsonObject): void {
  for (const field of CLOUDHSM_FIELDS) {
    if (input[field] !== undefined) throw new AwsError('ValidationException', `${field} is not valid for a custom key store of type EXTERNAL_KEY_STORE.`);
  }
}

function credentialOf(input: JsonObject, required: boolean): XksStoreFields['credential'] | undefined {
  const credential = optionalObject(input, 'XksProxyAuthenticationCredential');
  if (credential === undefined) {
    if (required) throw validationError('xksProxyAuthenticationCredential', undefined, 'Member must not be null');
    return undefined;
  }
  // Field names in AWS's messages: xksProxyAuthenticationCredential.accessKeyId / .rawSecretAccessKey.
  const accessKeyId = optionalString(credential, 'AccessKeyId', ACCESS_KEY_ID);
  const rawSecretAccessKey = optionalString(credential, 'RawSecretAccessKey', RAW_SECRET);
  if (accessKeyId === undefined) throw validationError('xksProxyAuthenticationCredential.accessKeyId', undefined, 'Member must not be null');
  if (rawSecretAccessKey === undefined) throw validationError('xksProxyAuthenticationCredential.rawSecretAccessKey', undefined, 'Member must not be null');
  return { accessKeyId, rawSecretAccessKey };
}

/** The connectivity rules: VPC needs a service name; a public endpoint takes none. */
function checkConnectivity(fields: XksStoreFields): void {
  if (fields.connectivity === 'VPC_ENDPOINT_SERVICE' && fields.vpcEndpointServiceName === undefined) {
    throw new AwsError('XksProxyInvalidConfigurationException', 'XksProxyVpcEndpointServiceName is required when XksProxyConnectivity is VPC_ENDPOINT_SERVICE.');
  }
  if (fields.connectivity === 'PUBLIC_ENDPOINT' && (fields.vpcEndpointServiceName !== undefined || fields.vpcEndpointServiceOwner !== undefined)) {
    throw new AwsError('XksProxyInvalidConfigurationException', 'XksProxyVpcEndpointServiceName and XksProxyVpcEndpointServiceOwner are valid only when XksProxyConnectivity is VPC_ENDPOINT_SERVICE.');
  }
}

/** Uniqueness within the account and region, as AWS requires it. */
function checkUnique(context: OperationContext, fields: XksStoreFields, exceptId?: string): void {
  const others = customKeyStoresOf(context.state)
    .values()
    .filter((store) => store.customKeyStoreId !== exceptId && store.xks !== undefined)
    .map((store) => store.xks as XksStoreFields);
  if (others.some((other) => other.uriEndpoint === fields.uriEndpoint && other.uriPath === fields.uriPath)) {
    throw new AwsError(
      'XksProxyUriInUseException',
      'The request was rejected because the concatenation of the XksProxyUriEndpoint and XksProxyUriPath is already associated with another external key store in this AWS Region. Each external key store in a Region must use a unique external key store proxy API address.',
    );
  }
  if (fields.connectivity === 'VPC_ENDPOINT_SERVICE') {
    if (others.some((other) => other.uriEndpoint === fields.uriEndpoint)) {
      throw new AwsError('XksProxyUriEndpointInUseException', `The XksProxyUriEndpoint ${fields.uriEndpoint} is already associated with another external key store in this AWS Region.`);
    }
    if (others.some((other) => other.vpcEndpointServiceName === fields.vpcEndpointServiceName)) {
      throw new AwsError(
        'XksProxyVpcEndpointServiceInUseException',
        `The Amazon VPC endpoint service ${fields.vpcEndpointServiceName} is already associated with another external key store in this AWS Region. Each external key store in a Region must use a different Amazon VPC endpoint service.`,
      );
    }
  }
}

type HealthOutcome = { readonly ok: true } | { readonly ok: false; readonly failure: XksCallFailure | 'allUnavailable' };

/** GetHealthStatus with the given settings, judged as AWS KMS judges the answer. */
export async function checkHealth(context: OperationContext, fields: XksStoreFields, kmsOperation: string): Promise<HealthOutcome> {
  const result = await context.runtime.xksProxy.call(fields, context.region, 'health', { requestMetadata: { kmsRequestId: context.requestId, kmsOperation } });
  if (!result.ok) {
    context.runtime.log(`GetHealthStatus for ${kmsOperation} failed: ${JSON.stringify(result.failure)}`);
    return { ok: false, failure: result.failure };
  }
  const fleet = result.body.ekmFleetDetails;
  if (!Array.isArray(fleet) || fleet.length === 0 || !fleet.every((entry) => typeof entry === 'object' && entry !== null && typeof (entry as JsonObject).healthStatus === 'string')) {
    return { ok: false, failure: { kind: 'malformed', detail: 'GetHealthStatus without ekmFleetDetails' } };
  }
  if (fleet.every((entry) => (entry as JsonObject).healthStatus === 'UNAVAILABLE')) return { ok: false, failure: 'allUnavailable' };
  return { ok: true };
}

async function requireHealthy(context: OperationContext, fields: XksStoreFields, kmsOperation: string): Promise<void> {
  const outcome = await checkHealth(context, fields, kmsOperation);
  if (outcome.ok) return;
  if (outcome.failure === 'allUnavailable') throw allEkmsUnavailable();
  throw kmsErrorForXksFailure(outcome.failure, 'keyStore');
}

/** GetHealthStatus every interval while the store stays CONNECTED (ends on disconnect or stop). */
function pollHealth(runtime: StandInRuntime, scopeKey: string, storeId: string): void {
  runtime.runInBackground(`health checks of ${storeId}`, async () => {
    while (await runtime.sleep(runtime.settings.xksHealthCheckIntervalMs)) {
      const context = backgroundContext(runtime, scopeKey, 'GetHealthStatus');
      const store = customKeyStoresOf(context.state).get(storeId);
      if (!store?.xks || store.connectionState !== 'CONNECTED') return;
      const outcome = await checkHealth(context, store.xks, 'GetHealthStatus');
      if (!outcome.ok) runtime.log(`periodic GetHealthStatus of ${storeId} failed: ${JSON.stringify(outcome.failure)}`);
    }
  });
}

/** Field by field (stored records may list them in another order): a rename alone changes no proxy setting, so AWS KMS does not call the proxy for it. */
function sameProxySettings(a: XksStoreFields, b: XksStoreFields): boolean {
  return (
    a.connectivity === b.connectivity &&
    a.uriEndpoint === b.uriEndpoint &&
    a.uriPath === b.uriPath &&
    a.vpcEndpointServiceName === b.vpcEndpointServiceName &&
    a.vpcEndpointServiceOwner === b.vpcEndpointServiceOwner &&
    a.credential.accessKeyId === b.credential.accessKeyId &&
    a.credential.rawSecretAccessKey === b.credential.rawSecretAccessKey
  );
}

export const externalKeyStoreType: CustomKeyStoreTypeProvider = {
  type: 'EXTERNAL_KEY_STORE',

  async create(input, context) {
    refuseCloudHsmFields(input);
    const fields: XksStoreFields = {
      uriEndpoint: requiredString(input, 'XksProxyUriEndpoint', URI_ENDPOINT),
      uriPath: requiredString(input, 'XksProxyUriPath', URI_PATH),
      connectivity: optionalEnum(input, 'XksProxyConnectivity', CONNECTIVITIES) ?? failRequired('xksProxyConnectivity'),
      credential: credentialOf(input, true) as XksStoreFields['credential'],
    };
    const serviceName = optionalString(input, 'XksProxyVpcEndpointServiceName', VPC_SERVICE_NAME);
    const serviceOwner = optionalString(input, 'XksProxyVpcEndpointServiceOwner', VPC_SERVICE_OWNER);
    if (serviceName !== undefined) fields.vpcEndpointServiceName = serviceName;
    if (serviceOwner !== undefined) fields.vpcEndpointServiceOwner = serviceOwner;
    checkConnectivity(fields);
    checkUnique(context, fields);
    await requireHealthy(context, fields, 'CreateCustomKeyStore');
    checkUnique(context, fields);
    return { xks: fields };
  },

  async update(input, store, context) {
    refuseCloudHsmFields(input);
    const current = store.xks as XksStoreFields;
    const endpoint = optionalString(input, 'XksProxyUriEndpoint', URI_ENDPOINT);
    const path = optionalString(input, 'XksProxyUriPath', URI_PATH);
    const connectivity = optionalEnum(input, 'XksProxyConnectivity', CONNECTIVITIES);
    const serviceName = optionalString(input, 'XksProxyVpcEndpointServiceName', VPC_SERVICE_NAME);
    const serviceOwner = optionalString(input, 'XksProxyVpcEndpointServiceOwner', VPC_SERVICE_OWNER);
    const credential = credentialOf(input, false);
    const needsDisconnected = endpoint !== undefined || connectivity !== undefined || serviceName !== undefined || serviceOwner !== undefined;
    if (needsDisconnected && store.connectionState !== 'DISCONNECTED') {
      throw storeInvalidState(
        `The custom key store ${store.customKeyStoreId} must be DISCONNECTED to change XksProxyConnectivity, XksProxyUriEndpoint, XksProxyVpcEndpointServiceName or XksProxyVpcEndpointServiceOwner; it is ${store.connectionState}.`,
      );
    }
    if (store.connectionState !== 'DISCONNECTED' && store.connectionState !== 'CONNECTED') {
      throw storeInvalidState(`The custom key store ${store.customKeyStoreId} can be updated only when it is CONNECTED or DISCONNECTED; it is ${store.connectionState}.`);
    }
    const next: XksStoreFields = {
      connectivity: connectivity ?? current.connectivity,
      uriEndpoint: endpoint ?? current.uriEndpoint,
      uriPath: path ?? current.uriPath,
      credential: credential ?? current.credential,
    };
    if (next.connectivity === 'VPC_ENDPOINT_SERVICE') {
      const name = serviceName ?? current.vpcEndpointServiceName;
      const owner = serviceOwner ?? current.vpcEndpointServiceOwner;
      if (name !== undefined) next.vpcEndpointServiceName = name;
      if (owner !== undefined) next.vpcEndpointServiceOwner = owner;
    } else if (serviceName !== undefined || serviceOwner !== undefined) {
      next.vpcEndpointServiceName = serviceName;
      next.vpcEndpointServiceOwner = serviceOwner;
    }
    checkConnectivity(next);
    checkUnique(context, next, store.customKeyStoreId);
    if (!sameProxySettings(next, current)) await requireHealthy(context, next, 'UpdateCustomKeyStore');
    return { ...store, xks: next };
  },

  async connect(store, context): Promise<ConnectOutcome> {
    const outcome = await checkHealth(context, store.xks as XksStoreFields, 'ConnectCustomKeyStore');
    if (!outcome.ok) return { connectionState: 'FAILED', connectionErrorCode: connectionErrorCodeFor(outcome.failure) };
    pollHealth(context.runtime, context.state.key, store.customKeyStoreId);
    return { connectionState: 'CONNECTED' };
  },

  describe(store) {
    const xks = store.xks as XksStoreFields;
    return {
      XksProxyConfiguration: {
        Connectivity: xks.connectivity,
        AccessKeyId: xks.credential.accessKeyId,
        UriEndpoint: xks.uriEndpoint,
        UriPath: xks.uriPath,
        ...(xks.vpcEndpointServiceName !== undefined ? { VpcEndpointServiceName: xks.vpcEndpointServiceName } : {}),
        ...(xks.vpcEndpointServiceOwner !== undefined ? { VpcEndpointServiceOwner: xks.vpcEndpointServiceOwner } : {}),
      },
    };
  },
};

function failRequired(field: string): never {
  throw validationError(field, undefined, 'Member must not be null');
}

export const externalKeyStores: StandInModule = {
  name: 'kms-external-key-stores',
  register(registry) {
    registry.customKeyStoreType(externalKeyStoreType).keyOrigin(externalKeyStoreOrigin);
  },
  start(runtime) {
    for (const scopeKey of runtime.state.scopesWith(CUSTOM_KEY_STORES)) {
      const [accountId, region] = scopeKey.split('/');
      for (const store of customKeyStoresOf(runtime.state.scope(accountId, region)).values()) {
        if (store.customKeyStoreType === 'EXTERNAL_KEY_STORE' && store.connectionState === 'CONNECTED') pollHealth(runtime, scopeKey, store.customKeyStoreId);
      }
    }
  },
};
