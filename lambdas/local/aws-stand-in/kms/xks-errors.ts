/**
 * What AWS KMS answers when a call to the XKS proxy fails: the table "KMS exceptions for XKS
 * proxy failures" of the AWS KMS External Key Store Proxy API Specification, by the KMS
 * operation that made the call, and the ConnectionErrorCode ConnectCustomKeyStore records.
 * The proxy's own errorMessage is never passed on (AWS logs it in CloudWatch; the stand-in logs it).
 */
import { AwsError } from '../aws-error';
import type { XksCallFailure } from './xks-proxy-client';

/** Which KMS operation called the proxy: the same failure is a different exception for each. */
export type XksCallPhase = 'keyStore' | 'createKey' | 'crypto';

const MESSAGES = {
  invalidResponse:
    'AWS KMS cannot interpret the response from the external key store proxy. If you see this error repeatedly, report it to your external key store proxy administrator.',
  keyNotEnabled:
    'The external key associated with this KMS key in an external key store is not enabled in the external key manager. Enable the external key in the external key manager and retry the request.',
  invalidCiphertext:
    'The external key store proxy rejected the request because the specified ciphertext or encryption context is corrupted, missing, or otherwise invalid.',
  invalidKeyUsage:
    'The external key associated with this KMS key in an external key store does not support the requested operation. Enable the operation on the key in your external key manager, and try the request again.',
  authentication:
    'The external key store proxy rejected the request because it could not authenticate AWS KMS. Verify the XKS proxy authentication credentials for your external key store and update if necessary.',
  accessDenied:
    'The external key store proxy denied access to the operation. Verify that the user and the external key are both authorized for this operation, and try the request again.',
  keyNotFound:
    'The external key associated with this KMS key in an external key store was not found in its external key manager. If the external key ID associated with this KMS key is incorrect, create a new KMS key with the correct external key ID.',
  invalidUriPath:
    'The external key store proxy rejected the request because of an invalid URI path. Verify the URI path for your external key store and update if necessary.',
  unsupported:
    'The external key store proxy rejected the request because it does not support the requested operation. If you see this error repeatedly, report it to your external key store proxy administrator.',
  dependencyTimeout:
    'The external key store proxy did not respond to the request in the time allotted. Retry the request. If you see this error repeatedly, report it to your external key store proxy administrator.',
  throttling:
    'The external key store proxy rejected the request due to a very high request rate. Reduce the frequency of your calls using KMS keys in this external key store.',
  internal:
    'The external key store proxy rejected the request because it cannot communicate with the external key manager. Verify that the external key store proxy configuration is correct and that the external key manager is available.',
  tcp: 'AWS KMS cannot communicate with the external key store proxy. This might be a transient network issue. If you see this error repeatedly, verify that your external key store proxy is active and is connected to the network, and that its endpoint URI is correct in your external keystore.',
  tls: 'AWS KMS cannot establish a TLS connection to the external key store proxy. Verify the TLS configuration, including its certificate.',
  timeout:
    'AWS KMS rejected the request because the external key store proxy did not respond in time. Retry the request. If you see this error repeatedly, report it to your external key store proxy administrator.',
  notConnected:
    'This KMS key is in a custom key store that is not connected to its external key store proxy. Connect the external key store and try the request again.',
  allUnavailable: 'The external key store proxy reports that all external key manager instances are unavailable.',
} as const;

export const XKS_NOT_CONNECTED_MESSAGE = MESSAGES.notConnected;

type Row = { readonly message: string; readonly keyStore: string; readonly createKey: string; readonly crypto: string };

const STORE_UNREACHABLE = 'XksProxyUriUnreachableException';
const STORE_INVALID_RESPONSE = 'XksProxyInvalidResponseException';
const CKS_STATE = 'CustomKeyStoreInvalidStateException';
const KMS_STATE = 'KMSInvalidStateException';

/** The spec's table, by proxy errorName. */
const BY_ERROR_NAME: Readonly<Record<string, Row>> = {
  ValidationException: { message: MESSAGES.invalidResponse, keyStore: STORE_INVALID_RESPONSE, createKey: CKS_STATE, crypto: KMS_STATE },
  InvalidStateException: { message: MESSAGES.keyNotEnabled, keyStore: STORE_INVALID_RESPONSE, createKey: 'XksKeyInvalidConfigurationException', crypto: KMS_STATE },
  InvalidCiphertextException: { message: MESSAGES.invalidCiphertext, keyStore: STORE_INVALID_RESPONSE, createKey: CKS_STATE, crypto: KMS_STATE },
  InvalidKeyUsageException: { message: MESSAGES.invalidKeyUsage, keyStore: STORE_INVALID_RESPONSE, createKey: 'XksKeyInvalidConfigurationException', crypto: KMS_STATE },
  AuthenticationFailedException: { message: MESSAGES.authentication, keyStore: 'XksProxyIncorrectAuthenticationCredentialException', createKey: CKS_STATE, crypto: KMS_STATE },
  AccessDeniedException: { message: MESSAGES.accessDenied, keyStore: 'XksProxyInvalidConfigurationException', createKey: KMS_STATE, crypto: KMS_STATE },
  KeyNotFoundException: { message: MESSAGES.keyNotFound, keyStore: STORE_INVALID_RESPONSE, createKey: 'XksKeyNotFoundException', crypto: KMS_STATE },
  InvalidUriPathException: { message: MESSAGES.invalidUriPath, keyStore: 'XksProxyInvalidConfigurationException', createKey: CKS_STATE, crypto: KMS_STATE },
  UnsupportedOperationException: { message: MESSAGES.unsupported, keyStore: STORE_INVALID_RESPONSE, createKey: 'XksKeyInvalidResponseException', crypto: KMS_STATE },
  DependencyTimeoutException: { message: MESSAGES.dependencyTimeout, keyStore: STORE_UNREACHABLE, createKey: CKS_STATE, crypto: KMS_STATE },
  ThrottlingException: { message: MESSAGES.throttling, keyStore: STORE_UNREACHABLE, createKey: CKS_STATE, crypto: KMS_STATE },
  InternalException: { message: MESSAGES.internal, keyStore: STORE_INVALID_RESPONSE, createKey: CKS_STATE, crypto: KMS_STATE },
};

const BY_KIND: Readonly<Record<Exclude<XksCallFailure['kind'], 'errorName'>, Row>> = {
  unreachable: { message: MESSAGES.tcp, keyStore: STORE_UNREACHABLE, createKey: CKS_STATE, crypto: KMS_STATE },
  tls: { message: MESSAGES.tls, keyStore: STORE_UNREACHABLE, createKey: CKS_STATE, crypto: KMS_STATE },
  timeout: { message: MESSAGES.timeout, keyStore: STORE_UNREACHABLE, createKey: CKS_STATE, crypto: KMS_STATE },
  malformed: { message: MESSAGES.invalidResponse, keyStore: STORE_INVALID_RESPONSE, createKey: CKS_STATE, crypto: KMS_STATE },
};

function rowOf(failure: XksCallFailure): Row {
  if (failure.kind === 'errorName') return BY_ERROR_NAME[failure.errorName] ?? BY_KIND.malformed;
  return BY_KIND[failure.kind];
}

export function kmsErrorForXksFailure(failure: XksCallFailure, phase: XksCallPhase): AwsError {
  const row = rowOf(failure);
  return new AwsError(row[phase], row.message);
}

/** A malformed answer (e.g. a ciphertext the proxy sent back that does not decrypt), by phase. */
export function kmsErrorForInvalidResponse(phase: XksCallPhase): AwsError {
  return kmsErrorForXksFailure({ kind: 'malformed', detail: 'invalid response' }, phase);
}

/** Create/UpdateCustomKeyStore when GetHealthStatus reports every external key manager UNAVAILABLE. */
export const allEkmsUnavailable = (): AwsError => new AwsError(STORE_UNREACHABLE, MESSAGES.allUnavailable);

/** ConnectionErrorCode of a failed connection attempt (DescribeCustomKeyStores' list of codes). */
export function connectionErrorCodeFor(failure: XksCallFailure | 'allUnavailable'): string {
  if (failure === 'allUnavailable') return 'XKS_PROXY_NOT_REACHABLE';
  switch (failure.kind) {
    case 'unreachable':
      return 'XKS_PROXY_NOT_REACHABLE';
    case 'tls':
      return 'XKS_PROXY_INVALID_TLS_CONFIGURATION';
    case 'timeout':
      return 'XKS_PROXY_TIMED_OUT';
    case 'malformed':
      return 'XKS_PROXY_INVALID_RESPONSE';
    case 'errorName':
      switch (failure.errorName) {
        case 'AuthenticationFailedException':
          return 'INVALID_CREDENTIALS';
        case 'AccessDeniedException':
          return 'XKS_PROXY_ACCESS_DENIED';
        case 'InvalidUriPathException':
          return 'XKS_PROXY_INVALID_CONFIGURATION';
        case 'DependencyTimeoutException':
        case 'ThrottlingException':
          return 'XKS_PROXY_TIMED_OUT';
        default:
          return 'XKS_PROXY_INVALID_RESPONSE';
      }
  }
}
