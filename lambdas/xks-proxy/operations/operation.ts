/**
 * The shape every XKS operation module exports: how to read its request body, and `enact`, which
 * runs after routing, SigV4, the store's block check and (for key operations) key resolution.
 * Operations throw XksError / HsmError; the core turns them into the spec's error body.
 */
import type { KeyCrypto } from '../../core/ports/hsm';
import type { XksKeyStoreView, XksKeyView } from '../../core/ports/xks-state-source';
import type { HealthMonitor } from '../health/health-monitor';
import type { JsonObject, RequestMetadata } from './request-fields';

/** What GetHealthStatus reports about the proxy itself. */
export interface ProxyInfo {
  /** Instances serving this endpoint (> 0). */
  readonly fleetSize: number;
  readonly vendor: string;
  readonly model: string;
}

export interface StoreContext {
  readonly store: XksKeyStoreView;
  readonly keyCrypto: KeyCrypto;
  /** The store's latest deep health result (GetHealthStatus). */
  readonly health: HealthMonitor;
  readonly proxyInfo: ProxyInfo;
  /** When the request must be answered (epoch ms): passed to every KeyCrypto call. */
  readonly deadlineAt: number;
}

export interface KeyContext extends StoreContext {
  readonly key: XksKeyView;
}

interface OperationBase<Request extends { readonly requestMetadata: Partial<RequestMetadata> }> {
  /** The body as a JSON object. @default parseJsonObject (ValidationException for anything else) */
  readonly readBody?: (rawBody: Buffer) => JsonObject;
  readonly parse: (body: JsonObject) => Request;
}

export interface StoreOperation<Request extends { readonly requestMetadata: Partial<RequestMetadata> }> extends OperationBase<Request> {
  readonly scope: 'store';
  readonly enact: (context: StoreContext, request: Request) => Promise<object>;
}

export interface KeyOperation<Request extends { readonly requestMetadata: Partial<RequestMetadata> }> extends OperationBase<Request> {
  readonly scope: 'key';
  readonly enact: (context: KeyContext, request: Request) => Promise<object>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the table holds operations of different request types
export type AnyOperation = StoreOperation<any> | KeyOperation<any>;
