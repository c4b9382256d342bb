/**
 * `AwsKms` on `@aws-sdk/client-kms`. One KMS client per account container and region, signing with
 * the container's assumed role (kms-credentials.ts) or, for a container without a role, with the
 * deployment's own credentials. `endpoint` points every client (KMS and STS) at another server:
 * locally, the local AWS stand-in.
 *
 * The SDK's own retries are off (`maxAttempts: 1`): throttling is retried once, in kms-errors.ts,
 * and every failure is translated there.
 */
import {
  ConnectCustomKeyStoreCommand,
  CreateCustomKeyStoreCommand,
  type CustomKeyStoresListEntry,
  DeleteCustomKeyStoreCommand,
  DescribeCustomKeyStoresCommand,
  DescribeKeyCommand,
  DisconnectCustomKeyStoreCommand,
  KMSClient,
  ListKeysCommand,
  UpdateCustomKeyStoreCommand,
} from '@aws-sdk/client-kms';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { ConflictError, DependencyError } from '../../core/errors';
import type {
  AwsKms,
  CloudHsmKeyStoreChanges,
  CloudHsmKeyStoreSettings,
  CustomKeyStoreConnectionState,
  CustomKeyStoreStatus,
  ExternalKeyStoreChanges,
  ExternalKeyStoreSettings,
  KmsKeyDescription,
  KmsKeyPage,
  KmsLocation,
  XksProxyConnectivity,
} from '../../core/ports/aws-kms';
import { AccountCredentials, clientKey } from './kms-credentials';
import { callKms, type RetryOptions } from './kms-errors';
import { SdkKmsKeys } from './kms-keys-sdk';

/** Retries of a create or update that AWS KMS refused because the proxy did not answer in time. */
export const PROXY_TIMEOUT_RETRIES = 2;
const PROXY_TIMEOUT_RETRY_WAIT_MS = 200;

/** How many keys a refused delete reads to say how many are left in the store (DescribeKey each). */
export const MAX_KEYS_COUNTED = 200;

export interface SdkAwsKmsProps {
  /** KMS and STS endpoint override (the local AWS stand-in). @default AWS's regional endpoints */
  readonly endpoint?: string;
  /** The deployment's own credentials. @default the SDK's default provider chain (the function's role) */
  readonly credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** Throttling retries (tests pass a sleep that does not wait). */
  readonly retry?: RetryOptions;
  /** @default Date.now */
  readonly now?: () => number;
}

/** The key operations (AwsKmsKeys) come from SdkKmsKeys, which calls through `call` below. */
export class SdkAwsKms extends SdkKmsKeys implements AwsKms {
  private readonly kmsClients = new Map<string, KMSClient>();
  private readonly credentials: AccountCredentials;

  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly props: SdkAwsKmsProps = {}) {
    super();
    this.now = props.now ?? Date.now;
    this.sleep = props.retry?.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.credentials = new AccountCredentials({ stsEndpoint: props.endpoint, credentials: props.credentials, now: props.now, retry: props.retry });
  }

  async createExternalKeyStore(at: KmsLocation, settings: ExternalKeyStoreSettings): Promise<string> {
    const answer = await this.retryingProxyTimeouts(() =>
      this.call(at, 'CreateCustomKeyStore', (kms) =>
        kms.send(
          new CreateCustomKeyStoreCommand({
            CustomKeyStoreName: settings.name,
            CustomKeyStoreType: 'EXTERNAL_KEY_STORE',
            ...proxySettings(settings),
          }),
        ),
      ),
    );
    if (!answer.CustomKeyStoreId) throw new DependencyError(`AWS KMS CreateCustomKeyStore in account ${at.accountId} (${at.region}) answered without a CustomKeyStoreId`);
    return answer.CustomKeyStoreId;
  }

  async createCloudHsmKeyStore(at: KmsLocation, settings: CloudHsmKeyStoreSettings): Promise<string> {
    const answer = await withoutPassword(settings.keyStorePassword, () =>
      this.call(at, 'CreateCustomKeyStore', (kms) =>
        kms.send(
          new CreateCustomKeyStoreCommand({
            CustomKeyStoreName: settings.name,
            CustomKeyStoreType: 'AWS_CLOUDHSM',
            CloudHsmClusterId: settings.cloudHsmClusterId,
            TrustAnchorCertificate: settings.trustAnchorCertificate,
            KeyStorePassword: settings.keyStorePassword,
          }),
        ),
      ),
    );
    if (!answer.CustomKeyStoreId) throw new DependencyError(`AWS KMS CreateCustomKeyStore in account ${at.accountId} (${at.region}) answered without a CustomKeyStoreId`);
    return answer.CustomKeyStoreId;
  }

  async updateCloudHsmKeyStore(at: KmsLocation, customKeyStoreId: string, changes: CloudHsmKeyStoreChanges): Promise<void> {
    await withoutPassword(changes.keyStorePassword, () =>
      this.call(at, 'UpdateCustomKeyStore', (kms) =>
        kms.send(
          new UpdateCustomKeyStoreCommand({
            CustomKeyStoreId: customKeyStoreId,
            ...(changes.name === undefined ? {} : { NewCustomKeyStoreName: changes.name }),
            ...(changes.cloudHsmClusterId === undefined ? {} : { CloudHsmClusterId: changes.cloudHsmClusterId }),
            ...(changes.keyStorePassword === undefined ? {} : { KeyStorePassword: changes.keyStorePassword }),
          }),
        ),
      ),
    );
  }

  async listCustomKeyStores(at: KmsLocation): Promise<CustomKeyStoreStatus[]> {
    const stores: CustomKeyStoreStatus[] = [];
    let marker: string | undefined;
    do {
      const answer = await this.call(at, 'DescribeCustomKeyStores', (kms) =>
        kms.send(new DescribeCustomKeyStoresCommand({ Limit: 1000, ...(marker === undefined ? {} : { Marker: marker }) })),
      );
      stores.push(...(answer.CustomKeyStores ?? []).map(customKeyStoreStatus));
      marker = answer.Truncated ? answer.NextMarker : undefined;
    } while (marker !== undefined);
    return stores;
  }

  async listCustomKeyStoresPage(at: KmsLocation, options: { readonly marker?: string; readonly limit?: number } = {}): Promise<{ stores: CustomKeyStoreStatus[]; nextMarker?: string }> {
    const answer = await this.call(at, 'DescribeCustomKeyStores', (kms) =>
      kms.send(new DescribeCustomKeyStoresCommand({ ...(options.marker === undefined ? {} : { Marker: options.marker }), ...(options.limit === undefined ? {} : { Limit: options.limit }) })),
    );
    const stores = (answer.CustomKeyStores ?? []).map(customKeyStoreStatus);
    return answer.Truncated && answer.NextMarker ? { stores, nextMarker: answer.NextMarker } : { stores };
  }

  async describeCustomKeyStore(at: KmsLocation, customKeyStoreId: string): Promise<CustomKeyStoreStatus | undefined> {
    try {
      const answer = await this.call(at, 'DescribeCustomKeyStores', (kms) => kms.send(new DescribeCustomKeyStoresCommand({ CustomKeyStoreId: customKeyStoreId })));
      const entry = answer.CustomKeyStores?.find((s) => s.CustomKeyStoreId === customKeyStoreId);
      return entry === undefined ? undefined : customKeyStoreStatus(entry);
    } catch (error) {
      if (isAwsError(error, 'CustomKeyStoreNotFoundException')) return undefined;
      throw error;
    }
  }

  async updateExternalKeyStore(
    at: KmsLocation,
    customKeyStoreId: string,
    changes: ExternalKeyStoreChanges,
    options: { readonly credentialPropagationMs?: number } = {},
  ): Promise<void> {
    const update = (): Promise<unknown> =>
      this.call(at, 'UpdateCustomKeyStore', (kms) =>
        kms.send(
          new UpdateCustomKeyStoreCommand({
            CustomKeyStoreId: customKeyStoreId,
            ...(changes.name === undefined ? {} : { NewCustomKeyStoreName: changes.name }),
            ...proxySettings(changes),
          }),
        ),
      );
    const giveUpAt = this.now() + (changes.credential === undefined ? 0 : (options.credentialPropagationMs ?? 0));
    for (let wait = 250; ; wait = Math.min(wait * 2, 1_000)) {
      try {
        await this.retryingProxyTimeouts(update);
        return;
      } catch (error) {
        // The proxy has not seen the new credential yet (its state cache is older than it): try until giveUpAt.
        const left = giveUpAt - this.now();
        if (!isAwsError(error, 'XksProxyIncorrectAuthenticationCredentialException') || left <= 0) throw error;
        await this.sleep(Math.min(wait, left));
      }
    }
  }

  async connectCustomKeyStore(at: KmsLocation, customKeyStoreId: string): Promise<void> {
    await this.call(at, 'ConnectCustomKeyStore', (kms) => kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: customKeyStoreId })));
  }

  async disconnectCustomKeyStore(at: KmsLocation, customKeyStoreId: string): Promise<void> {
    await this.call(at, 'DisconnectCustomKeyStore', (kms) => kms.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: customKeyStoreId })));
  }

  async deleteCustomKeyStore(at: KmsLocation, customKeyStoreId: string): Promise<void> {
    try {
      await this.call(at, 'DeleteCustomKeyStore', (kms) => kms.send(new DeleteCustomKeyStoreCommand({ CustomKeyStoreId: customKeyStoreId })));
    } catch (error) {
      if (isAwsError(error, 'CustomKeyStoreNotFoundException')) return;
      if (isAwsError(error, 'CustomKeyStoreHasCMKsException')) {
        throw new ConflictError(`${await this.keysLeftMessage(at, customKeyStoreId)}; schedule their deletion in AWS KMS and delete the key store once they are deleted`, { cause: error });
      }
      throw error;
    }
  }

  async listKeys(at: KmsLocation, options: { readonly marker?: string; readonly limit?: number } = {}): Promise<KmsKeyPage> {
    const answer = await this.call(at, 'ListKeys', (kms) =>
      kms.send(new ListKeysCommand({ ...(options.marker === undefined ? {} : { Marker: options.marker }), ...(options.limit === undefined ? {} : { Limit: options.limit }) })),
    );
    const keys = (answer.Keys ?? []).filter((k) => k.KeyId !== undefined);
    const keyIds = keys.map((k) => k.KeyId as string);
    const ids = keys.every((k) => k.KeyArn !== undefined) ? { keyIds, keyArns: keys.map((k) => k.KeyArn as string) } : { keyIds };
    return answer.Truncated && answer.NextMarker ? { ...ids, nextMarker: answer.NextMarker } : ids;
  }

  async describeKey(at: KmsLocation, keyId: string): Promise<KmsKeyDescription> {
    const { KeyMetadata: key } = await this.call(at, 'DescribeKey', (kms) => kms.send(new DescribeKeyCommand({ KeyId: keyId })));
    if (!key?.KeyId || !key.Arn) throw new DependencyError(`AWS KMS DescribeKey of ${keyId} in account ${at.accountId} (${at.region}) answered without key metadata`);
    return {
      keyId: key.KeyId,
      arn: key.Arn,
      keyState: key.KeyState ?? 'Unknown',
      origin: key.Origin ?? 'Unknown',
      ...(key.CustomKeyStoreId ? { customKeyStoreId: key.CustomKeyStoreId } : {}),
      ...(key.XksKeyConfiguration?.Id ? { xksKeyId: key.XksKeyConfiguration.Id } : {}),
      ...(key.Description ? { description: key.Description } : {}),
    };
  }

  /**
   * "AWS KMS still has N KMS key(s) in ...": the account's keys, read page by page and described
   * one by one, up to MAX_KEYS_COUNTED of them (then "at least N").
   */
  private async keysLeftMessage(at: KmsLocation, customKeyStoreId: string): Promise<string> {
    let found = 0;
    let read = 0;
    let marker: string | undefined;
    do {
      const page = await this.listKeys(at, { marker, limit: Math.min(100, MAX_KEYS_COUNTED - read) });
      for (const keyId of page.keyIds) {
        read += 1;
        const key = await this.describeKey(at, keyId);
        if (key.customKeyStoreId === customKeyStoreId) found += 1;
      }
      marker = page.nextMarker;
    } while (marker !== undefined && read < MAX_KEYS_COUNTED);
    const count = marker === undefined ? `${found}` : `at least ${found} (of the first ${read} keys of the account)`;
    return `AWS KMS refuses to delete custom key store ${customKeyStoreId} in account ${at.accountId} (${at.region}): it still has ${count} KMS key(s) in it, counting those pending deletion`;
  }

  /**
   * AWS KMS answers XksProxyUriUnreachableException when the proxy missed its 250 ms budget, and
   * says "Retry the request": a proxy's first request after it started (TLS, state, the deep health
   * check) can take longer than later ones. Retried PROXY_TIMEOUT_RETRIES times, then given up.
   */
  private async retryingProxyTimeouts<T>(call: () => Promise<T>): Promise<T> {
    for (let retry = 0; ; retry += 1) {
      try {
        return await call();
      } catch (error) {
        if (!isAwsError(error, 'XksProxyUriUnreachableException') || retry >= PROXY_TIMEOUT_RETRIES) throw error;
        await this.sleep(PROXY_TIMEOUT_RETRY_WAIT_MS);
      }
    }
  }

  /** Runs one KMS call in `at` with throttling retries and error translation. */
  protected call<T>(at: KmsLocation, operation: string, send: (kms: KMSClient) => Promise<T>): Promise<T> {
    return callKms({ at, operation }, () => send(this.kmsClient(at)), this.props.retry);
  }

  private kmsClient(at: KmsLocation): KMSClient {
    const key = clientKey(at);
    let client = this.kmsClients.get(key);
    if (client === undefined) {
      const credentials = this.credentials.for(at);
      client = new KMSClient({
        region: at.region,
        maxAttempts: 1,
        ...(this.props.endpoint === undefined ? {} : { endpoint: this.props.endpoint }),
        ...(credentials === undefined ? {} : { credentials }),
      });
      this.kmsClients.set(key, client);
    }
    return client;
  }
}

/** The proxy parameters of CreateCustomKeyStore / UpdateCustomKeyStore, only those given. */
function proxySettings(settings: ExternalKeyStoreChanges) {
  return {
    ...(settings.uriEndpoint === undefined ? {} : { XksProxyUriEndpoint: settings.uriEndpoint }),
    ...(settings.uriPath === undefined ? {} : { XksProxyUriPath: settings.uriPath }),
    ...(settings.connectivity === undefined ? {} : { XksProxyConnectivity: settings.connectivity }),
    ...(settings.vpcEndpointServiceName === undefined ? {} : { XksProxyVpcEndpointServiceName: settings.vpcEndpointServiceName }),
    ...(settings.credential === undefined
      ? {}
      : { XksProxyAuthenticationCredential: { AccessKeyId: settings.credential.accessKeyId, RawSecretAccessKey: settings.credential.rawSecretAccessKey } }),
  };
}

function customKeyStoreStatus(entry: CustomKeyStoresListEntry): CustomKeyStoreStatus {
  const proxy = entry.XksProxyConfiguration;
  return {
    customKeyStoreId: entry.CustomKeyStoreId ?? '',
    name: entry.CustomKeyStoreName ?? '',
    type: entry.CustomKeyStoreType === 'AWS_CLOUDHSM' ? 'AWS_CLOUDHSM' : 'EXTERNAL_KEY_STORE',
    connectionState: (entry.ConnectionState ?? 'DISCONNECTED') as CustomKeyStoreConnectionState,
    ...(entry.ConnectionErrorCode ? { connectionErrorCode: entry.ConnectionErrorCode } : {}),
    ...(entry.CloudHsmClusterId ? { cloudHsmClusterId: entry.CloudHsmClusterId } : {}),
    ...(proxy === undefined
      ? {}
      : {
          xksProxy: {
            accessKeyId: proxy.AccessKeyId ?? '',
            uriEndpoint: proxy.UriEndpoint ?? '',
            uriPath: proxy.UriPath ?? '',
            connectivity: (proxy.Connectivity ?? 'PUBLIC_ENDPOINT') as XksProxyConnectivity,
            ...(proxy.VpcEndpointServiceName ? { vpcEndpointServiceName: proxy.VpcEndpointServiceName } : {}),
          },
        }),
  };
}

/**
 * Runs a call that sends a kmsuser password: AWS's messages do not quote it, but should one ever
 * do (a validation message echoing the value), it is cut out before the error travels on.
 */
async function withoutPassword<T>(password: string | undefined, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (password !== undefined && error instanceof Error && error.message.includes(password)) {
      error.message = error.message.split(password).join('***');
    }
    throw error;
  }
}

/** True when `error` was translated from the AWS error `name` (kms-errors.ts keeps it as the cause). */
function isAwsError(error: unknown, name: string): boolean {
  if (!(error instanceof Error)) return false;
  return error.name === name || (error.cause instanceof Error && error.cause.name === name);
}
