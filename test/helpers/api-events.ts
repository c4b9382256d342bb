/**
 * API Gateway (REST proxy) events for calling handlers directly, as API Gateway and the local
 * gateway do, and bearer tokens from the local token issuer (lambdas/local/adapters/local-tokens.ts).
 */
import type { KeyObject } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { GROUPS } from '../../lambdas/contract/env';
import { routeFor } from '../../lambdas/contract/routes';
import { issueLocalToken, loadOrCreateSigningKey, LocalTokenVerifier } from '../../lambdas/local/adapters/local-tokens';

export interface EventOptions {
  /** Path parameters, e.g. `{ id }`. */
  readonly params?: Record<string, string>;
  /** A value to send as JSON, or a raw string sent as is. */
  readonly body?: unknown;
  readonly query?: Record<string, string>;
  /** Sent as `Authorization: Bearer <token>`. */
  readonly token?: string;
  readonly headers?: Record<string, string>;
}

/** The event API Gateway would send for the route of `operation`. */
export function apiEvent(operation: string, options: EventOptions = {}): APIGatewayProxyEvent {
  const route = routeFor(operation);
  const params = options.params ?? {};
  const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(params[name] ?? `missing-${name}`));
  const body = options.body === undefined ? null : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  return {
    httpMethod: route.method,
    path,
    resource: route.path,
    headers: { 'content-type': 'application/json', ...(options.token ? { Authorization: `Bearer ${options.token}` } : {}), ...options.headers },
    multiValueHeaders: {},
    pathParameters: Object.keys(params).length > 0 ? params : null,
    queryStringParameters: options.query ?? null,
    multiValueQueryStringParameters: null,
    stageVariables: null,
    body,
    isBase64Encoded: false,
    requestContext: {} as APIGatewayProxyEvent['requestContext'],
  };
}

export function lambdaContext(functionName = 'test-function'): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:111122223333:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: `req-${Math.random().toString(36).slice(2)}`,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'test',
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** A parsed response: status and JSON body (undefined when empty). */
export interface JsonResponse<T = any> {
  readonly statusCode: number;
  readonly body: T;
}

export function parseResponse<T = any>(result: APIGatewayProxyResult): JsonResponse<T> {
  return { statusCode: result.statusCode, body: result.body ? (JSON.parse(result.body) as T) : (undefined as T) };
}

/** A local token issuer with its verifier (its own key pair in a temp folder). */
export class TestTokens {
  private constructor(
    private readonly stateDir: string,
    readonly verifier: LocalTokenVerifier,
  ) {}

  static create(): TestTokens {
    const stateDir = mkdtempSync(join(tmpdir(), 'test-tokens-'));
    loadOrCreateSigningKey(stateDir);
    return new TestTokens(stateDir, LocalTokenVerifier.fromStateDir(stateDir));
  }

  admin(username = 'admin'): Promise<string> {
    return this.issue(username, [GROUPS.admins]);
  }

  user(username: string, groups: string[] = []): Promise<string> {
    return this.issue(username, [GROUPS.users, ...groups]);
  }

  issue(username: string, groups: string[], expiresIn: string | number = '1h'): Promise<string> {
    return issueLocalToken(this.signingKey(), { username, groups, expiresIn });
  }

  /** The issuer's private key, for tokens with claims `issue` does not make (wrong issuer, odd claims). */
  signingKey(): KeyObject {
    return loadOrCreateSigningKey(this.stateDir);
  }
}
