/**
 * The local stand-in for API Gateway (bin/local.ts): an HTTP server that routes requests with the
 * same route table the CDK builds the REST API from, turns each into the REST (v1) proxy event API
 * Gateway would send, and calls the route's handler module in-process, as its Lambda would.
 *
 * Like the deployed API, it answers itself for what never reaches a function: an unknown path
 * (404), a known path with another method (405), and — when given an `authorizer`, as the Cognito
 * authorizer does on AWS — a missing or invalid bearer token on a non-public route (401).
 * A route whose handler file does not exist yet answers 501, so a partly built API still runs.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { type RouteDefinition, routes as allRoutes } from '../contract/routes';
import { KeyManagerError, NotFoundError, UnauthorizedError, isError } from '../core/errors';
import type { Principal, TokenVerifier } from '../core/ports/token-verifier';
import { bearerToken } from '../runtime/middleware/authenticate';

/** A handler module's export: the Lambda entry point of one operation. */
export type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

export interface LocalGatewayOptions {
  /** @default - every route of lambdas/contract/routes.ts */
  readonly routes?: readonly RouteDefinition[];
  /** Folder the routes' `handler` paths are relative to. @default - the repository root */
  readonly rootDir?: string;
  /**
   * Path prefix every route sits under, like an API Gateway stage (`/api` gives CCKM's
   * `/api/v1/cckm/...`); its last segment is the event's `requestContext.stage`.
   * @default '' (routes at the server root, stage `local`)
   */
  readonly basePath?: string;
  /**
   * Checks bearer tokens before a non-public route's handler runs, as the Cognito authorizer does.
   * @default - none: every request reaches its handler
   */
  readonly authorizer?: TokenVerifier;
  /** Request body limit (API Gateway's payload limit is 10 MB). @default 10 MiB */
  readonly maxBodyBytes?: number;
  /** Where handler failures are reported (never sent to the client). @default console.error */
  readonly onHandlerError?: (operation: string, error: unknown) => void;
}

export interface RunningGateway {
  readonly server: Server;
  /** `http://<host>:<port><basePath>`, the base URL of the API. */
  readonly url: string;
  close(): Promise<void>;
}

const REPOSITORY_ROOT = resolve(__dirname, '..', '..');
/** The time budget a handler sees through `context.getRemainingTimeInMillis()` (API Gateway's limit). */
const HANDLER_TIMEOUT_MS = 29_000;

class MethodNotAllowedError extends KeyManagerError {
  readonly statusCode = 405;
  readonly code = 'NCERRMethodNotAllowed';
}

class NotImplementedError extends KeyManagerError {
  readonly statusCode = 501;
  readonly code = 'NCERRNotImplemented';
}

class PayloadTooLargeError extends KeyManagerError {
  readonly statusCode = 413;
  readonly code = 'NCERRPayloadTooLarge';
}

/** What API Gateway answers when the function fails: no detail, which goes to the log instead. */
class HandlerFailedError extends KeyManagerError {
  readonly statusCode = 500;
  readonly code = 'NCERRInternal';
  constructor() {
    super('Internal server error');
  }
}

interface CompiledRoute {
  readonly route: RouteDefinition;
  readonly pattern: RegExp;
  readonly paramNames: readonly string[];
  /** Literal segments rank first, as in API Gateway (`/keys/new` before `/keys/{id}`). */
  readonly literalSegments: number;
}

function compile(route: RouteDefinition): CompiledRoute {
  const paramNames: string[] = [];
  let literalSegments = 0;
  const source = route.path
    .split('/')
    .map((segment) => {
      const param = /^\{(\w+)\}$/.exec(segment);
      if (param) {
        paramNames.push(param[1]);
        return '([^/]+)';
      }
      if (segment) literalSegments += 1;
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return { route, pattern: new RegExp(`^${source}/?$`), paramNames, literalSegments };
}

interface RouteMatch {
  readonly route: RouteDefinition;
  readonly pathParameters: Record<string, string> | null;
}

/** Matches a path (below the base path) and method against the route table. */
export class RouteMatcher {
  private readonly compiled: readonly CompiledRoute[];

  constructor(routes: readonly RouteDefinition[]) {
    this.compiled = routes.map(compile).sort((a, b) => b.literalSegments - a.literalSegments);
  }

  /** The matching route; NotFoundError for an unknown path, MethodNotAllowedError for another method. */
  match(method: string, path: string): RouteMatch {
    const allowed: string[] = [];
    for (const candidate of this.compiled) {
      const found = candidate.pattern.exec(path);
      if (!found) continue;
      if (candidate.route.method !== method) {
        allowed.push(candidate.route.method);
        continue;
      }
      if (candidate.paramNames.length === 0) return { route: candidate.route, pathParameters: null };
      const pathParameters: Record<string, string> = {};
      candidate.paramNames.forEach((name, index) => {
        pathParameters[name] = safeDecode(found[index + 1]);
      });
      return { route: candidate.route, pathParameters };
    }
    if (allowed.length > 0) {
      throw new MethodNotAllowedError(`${method} is not allowed on ${path}; allowed: ${[...new Set(allowed)].join(', ')}`);
    }
    throw new NotFoundError('Resource path', path);
  }
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** Creates the server (not yet listening). */
export function createLocalGateway(options: LocalGatewayOptions = {}): Server {
  const matcher = new RouteMatcher(options.routes ?? allRoutes);
  const rootDir = options.rootDir ?? REPOSITORY_ROOT;
  const basePath = (options.basePath ?? '').replace(/\/+$/, '');
  const stage = basePath.split('/').pop() || 'local';
  const maxBodyBytes = options.maxBodyBytes ?? 10 * 1024 * 1024;
  const onHandlerError =
    options.onHandlerError ??
    ((operation: string, error: unknown) => console.error(`[local-gateway] ${operation} failed:`, error));
  const handlers = new Map<string, ProxyHandler>();

  /** Requires the handler module the first time its route is called; undefined while the file does not exist. */
  const handlerFor = (route: RouteDefinition): ProxyHandler | undefined => {
    const cached = handlers.get(route.operation);
    if (cached) return cached;
    const file = join(rootDir, route.handler);
    if (!existsSync(file)) return undefined;
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded lazily, as Lambda loads one module per function
    const loaded = require(file) as { handler?: unknown };
    if (typeof loaded.handler !== 'function') throw new Error(`${route.handler} does not export a handler function`);
    const handler = loaded.handler as ProxyHandler;
    handlers.set(route.operation, handler);
    return handler;
  };

  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://local');
    const method = req.method ?? 'GET';
    if (basePath && url.pathname !== basePath && !url.pathname.startsWith(`${basePath}/`)) {
      throw new NotFoundError('Resource path', url.pathname);
    }
    const path = url.pathname.slice(basePath.length) || '/';
    const { route, pathParameters } = matcher.match(method, path);
    const body = await readBody(req, maxBodyBytes);
    const principal =
      options.authorizer && route.access.kind !== 'public'
        ? await authorize(options.authorizer, req.headers.authorization)
        : undefined;

    const handler = handlerFor(route);
    if (!handler) {
      throw new NotImplementedError(`${route.operation} is not implemented yet (no ${route.handler})`);
    }
    const requestId = randomUUID();
    const event = proxyEvent({ req, url, method, path, body, route, pathParameters, basePath, stage, requestId, principal });
    let result: APIGatewayProxyResult;
    try {
      result = await handler(event, lambdaContext(route, requestId));
    } catch (error) {
      onHandlerError(route.operation, error);
      throw new HandlerFailedError();
    }
    writeResult(res, result);
  };

  return createServer((req, res) => {
    serve(req, res).catch((error: unknown) => {
      if (!isError(error, KeyManagerError)) {
        onHandlerError('local-gateway', error);
        error = new HandlerFailedError();
      }
      sendError(res, error as KeyManagerError);
    });
  });
}

/** Creates the server and listens; resolves once it accepts connections. */
export async function startLocalGateway(
  listen: { readonly port: number; readonly host?: string },
  options: LocalGatewayOptions = {},
): Promise<RunningGateway> {
  const server = createLocalGateway(options);
  const host = listen.host ?? '127.0.0.1';
  await new Promise<void>((resolveListening, reject) => {
    server.once('error', reject);
    server.listen(listen.port, host, () => {
      server.removeListener('error', reject);
      resolveListening();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://${host}:${port}${(options.basePath ?? '').replace(/\/+$/, '')}`,
    close: () =>
      new Promise((resolveClosed) => {
        server.close(() => resolveClosed());
        server.closeAllConnections();
      }),
  };
}

async function authorize(verifier: TokenVerifier, header: string | undefined): Promise<Principal> {
  const token = bearerToken(header);
  if (!token) throw new UnauthorizedError('Missing bearer token: send Authorization: Bearer <token>');
  return verifier.verify(token);
}

function readBody(req: IncomingMessage, maxBytes: number): Promise<string | null> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        reject(new PayloadTooLargeError(`Request body exceeds ${maxBytes} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolveBody(size === 0 ? null : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

interface EventParts {
  readonly req: IncomingMessage;
  readonly url: URL;
  readonly method: string;
  readonly path: string;
  readonly body: string | null;
  readonly route: RouteDefinition;
  readonly pathParameters: Record<string, string> | null;
  readonly basePath: string;
  readonly stage: string;
  readonly requestId: string;
  readonly principal?: Principal;
}

/** The REST API (v1) Lambda proxy event for a request, as API Gateway builds it. */
function proxyEvent(parts: EventParts): APIGatewayProxyEvent {
  const { req, url } = parts;
  // Header names keep the client's case, as API Gateway passes them; single-value maps keep the last value.
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const [name, value] = [req.rawHeaders[i], req.rawHeaders[i + 1]];
    headers[name] = value;
    (multiValueHeaders[name] ??= []).push(value);
  }
  const query: Record<string, string> = {};
  const multiValueQuery: Record<string, string[]> = {};
  for (const [name, value] of url.searchParams) {
    query[name] = value;
    (multiValueQuery[name] ??= []).push(value);
  }
  const hasQuery = Object.keys(query).length > 0;
  const { principal } = parts;
  return {
    httpMethod: parts.method,
    path: parts.path,
    resource: parts.route.path,
    pathParameters: parts.pathParameters,
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? multiValueQuery : null,
    headers,
    multiValueHeaders,
    body: parts.body,
    isBase64Encoded: false,
    stageVariables: null,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: principal
        ? { claims: { sub: principal.subject, username: principal.username, 'cognito:groups': principal.groups.join(',') } }
        : null,
      protocol: `HTTP/${req.httpVersion}`,
      httpMethod: parts.method,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        user: null,
        userAgent: req.headers['user-agent'] ?? null,
        userArn: null,
      },
      path: `${parts.basePath}${parts.path}`,
      stage: parts.stage,
      requestId: parts.requestId,
      requestTimeEpoch: Date.now(),
      resourceId: parts.route.operation,
      resourcePath: parts.route.path,
    },
  };
}

/** The Lambda context a handler sees (Powertools reads the function name and request id from it). */
function lambdaContext(route: RouteDefinition, requestId: string): Context {
  const deadline = Date.now() + HANDLER_TIMEOUT_MS;
  const functionName = `local-${route.operation}`;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

function writeResult(res: ServerResponse, result: APIGatewayProxyResult): void {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
  for (const [name, values] of Object.entries(result.multiValueHeaders ?? {})) headers[name] = values.map(String);
  if (!Object.keys(headers).some((name) => name.toLowerCase() === 'content-type')) {
    headers['Content-Type'] = 'application/json';
  }
  const body = result.isBase64Encoded ? Buffer.from(result.body ?? '', 'base64') : (result.body ?? '');
  res.writeHead(result.statusCode, headers);
  res.end(body);
}

function sendError(res: ServerResponse, error: KeyManagerError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(error.statusCode, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(error.toJSON()));
}
