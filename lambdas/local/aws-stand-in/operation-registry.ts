/**
 * How operations plug into the stand-in. A module (a file exporting a StandInModule) registers
 * its operations with the registry; modules.ts lists every module the server loads.
 *
 *   export const keyOperations: StandInModule = {
 *     name: 'kms-keys',
 *     register(registry) {
 *       registry.json(KMS, 'DescribeKey', describeKey);          // X-Amz-Target: TrentService.DescribeKey
 *       registry.keyOrigin(awsKmsOrigin);                        // CreateKey with Origin AWS_KMS
 *     },
 *   };
 *
 * JSON 1.1 operations (KMS `TrentService.<Op>`, CloudHSMv2 `BaldrApiService.<Op>`) take the
 * parsed body and return the response object (dates as epoch seconds). Query actions (STS) take
 * the form parameters and return the `<Action>Result` element's content as an XmlValue. Both
 * refuse with an AwsError (aws-error.ts). The server has verified the caller's signature before
 * an operation runs; `context.state` is the caller's account in the signed region.
 */
import type { CredentialStore, Caller } from './credentials';
import type { CustomKeyStoreTypeProvider } from './kms/custom-key-store-types';
import type { KeyOriginProvider } from './kms/key-origins';
import type { ScopedState, StandInState } from './state';
import type { XksProxyClient } from './kms/xks-proxy-client';

export type JsonObject = Record<string, unknown>;

/** JSON 1.1 services: the X-Amz-Target prefix and the SigV4 signing name. */
export interface JsonService {
  readonly targetPrefix: string;
  readonly signingName: string;
}

export const KMS: JsonService = { targetPrefix: 'TrentService', signingName: 'kms' };
export const CLOUDHSM_V2: JsonService = { targetPrefix: 'BaldrApiService', signingName: 'cloudhsm' };

/** Query-protocol services: the signing name and the XML namespace of responses. */
export interface QueryService {
  readonly signingName: string;
  readonly xmlns: string;
}

export const STS: QueryService = { signingName: 'sts', xmlns: 'https://sts.amazonaws.com/doc/2011-06-15/' };

/** XML content: text, a list of `<member>` elements, or named child elements (undefined ones are left out). */
export type XmlValue = string | number | boolean | readonly XmlValue[] | { readonly [element: string]: XmlValue | undefined };

export interface OperationContext {
  /** `TrentService.CreateKey`, `sts:AssumeRole`, ... */
  readonly operation: string;
  readonly requestId: string;
  readonly caller: Caller;
  /** The region of the request's SigV4 credential scope. */
  readonly region: string;
  /** The caller's account in that region. */
  readonly state: ScopedState;
  readonly runtime: StandInRuntime;
}

/** What every operation may reach besides its own account and region. */
export interface StandInRuntime {
  readonly state: StandInState;
  readonly registry: OperationRegistry;
  readonly credentials: CredentialStore;
  readonly xksProxy: XksProxyClient;
  readonly now: () => Date;
  /**
   * Runs work after the answer has gone (ConnectCustomKeyStore's connection attempt, periodic
   * health checks); stop() waits for it. Errors are logged, never thrown.
   */
  runInBackground(name: string, work: () => Promise<void>): void;
  /** Logs to the server's log (never plaintext, key material or secrets). */
  log(message: string): void;
  readonly settings: StandInSettings;
  /** True once stop() began: periodic work should end. */
  isStopping(): boolean;
  /** Resolves true after `ms`, or false at once when stop() begins (periodic work then ends). */
  sleep(ms: number): Promise<boolean>;
}

export interface StandInSettings {
  /** How often a CONNECTED external key store's proxy health is checked. */
  readonly xksHealthCheckIntervalMs: number;
}

export type JsonOperation = (input: JsonObject, context: OperationContext) => JsonObject | Promise<JsonObject>;
export type QueryAction = (params: URLSearchParams, context: OperationContext) => XmlValue | Promise<XmlValue>;

export interface RegisteredJsonOperation {
  readonly service: JsonService;
  readonly name: string;
  readonly run: JsonOperation;
}

export interface RegisteredQueryAction {
  readonly service: QueryService;
  readonly name: string;
  readonly run: QueryAction;
}

export interface StandInModule {
  readonly name: string;
  register(registry: OperationRegistry): void;
  /** Called once the server listens (e.g. to resume periodic work for state found in the folder). */
  start?(runtime: StandInRuntime): void;
}

export class OperationRegistry {
  private readonly jsonOperations = new Map<string, RegisteredJsonOperation>();
  private readonly queryActions = new Map<string, RegisteredQueryAction>();
  private readonly origins = new Map<string, KeyOriginProvider>();
  private readonly storeTypes = new Map<string, CustomKeyStoreTypeProvider>();

  /** Registers `X-Amz-Target: <service.targetPrefix>.<name>`. */
  json(service: JsonService, name: string, run: JsonOperation): this {
    const target = `${service.targetPrefix}.${name}`;
    if (this.jsonOperations.has(target)) throw new Error(`${target} is registered twice`);
    this.jsonOperations.set(target, { service, name, run });
    return this;
  }

  /** Registers `Action=<name>` for requests signed for `service.signingName`. */
  query(service: QueryService, name: string, run: QueryAction): this {
    const key = `${service.signingName}:${name}`;
    if (this.queryActions.has(key)) throw new Error(`${key} is registered twice`);
    this.queryActions.set(key, { service, name, run });
    return this;
  }

  /** What CreateKey does for one `Origin`, and how Encrypt/Decrypt use keys of that origin. */
  keyOrigin(provider: KeyOriginProvider): this {
    if (this.origins.has(provider.origin)) throw new Error(`origin ${provider.origin} is registered twice`);
    this.origins.set(provider.origin, provider);
    return this;
  }

  /** What the custom key store operations do for one `CustomKeyStoreType`. */
  customKeyStoreType(provider: CustomKeyStoreTypeProvider): this {
    if (this.storeTypes.has(provider.type)) throw new Error(`custom key store type ${provider.type} is registered twice`);
    this.storeTypes.set(provider.type, provider);
    return this;
  }

  findJson(target: string): RegisteredJsonOperation | undefined {
    return this.jsonOperations.get(target);
  }

  findQuery(signingName: string, action: string): RegisteredQueryAction | undefined {
    return this.queryActions.get(`${signingName}:${action}`);
  }

  /** The JSON services that have at least one operation (for routing by signing name). */
  jsonServices(): JsonService[] {
    return [...new Map([...this.jsonOperations.values()].map((op) => [op.service.targetPrefix, op.service])).values()];
  }

  findKeyOrigin(origin: string): KeyOriginProvider | undefined {
    return this.origins.get(origin);
  }

  keyOrigins(): string[] {
    return [...this.origins.keys()];
  }

  findCustomKeyStoreType(type: string): CustomKeyStoreTypeProvider | undefined {
    return this.storeTypes.get(type);
  }

  customKeyStoreTypes(): string[] {
    return [...this.storeTypes.keys()];
  }
}
