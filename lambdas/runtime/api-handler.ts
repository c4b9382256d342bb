/**
 * `apiHandler(operation, fn)`: the management API's Lambda handler for one route of the route
 * table. The route's row decides everything around `fn`:
 *  1. Powertools logger with the Lambda context and `operation` (events and bodies are never
 *     logged: they can carry PINs and secrets);
 *  2. authentication (401) and admin-only routes (403);
 *  3. validation of the body and query against the row's schemas (400 naming the field);
 *  4. `fn(request, dependencies)`: one service call;
 *  5. a JSON response with the row's success status (204: empty body, or 200 when `fn` returns a value);
 *  6. errors → CCKM error body (error-response.ts).
 *
 *    export const handler = apiHandler('CreateAccountContainer', (req, deps) =>
 *      deps.accountContainers.create(req.body));
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { type Operation, type RequestBody, type RequestQuery, routeFor } from '../contract/routes';
import type { Access } from '../core/accounts/access';
import type { Principal } from '../core/ports/token-verifier';
import { dependencies, type Dependencies } from './dependencies';
import { ANONYMOUS, JSON_HEADERS, type ApiEvent, type ApiResult } from './middleware/api-event';
import { authenticate } from './middleware/authenticate';
import { errorResponse } from './middleware/error-response';
import { validateRequest } from './middleware/validate-request';

/** What a handler's `fn` receives; `apiHandler` types `body` and `query` from the route's schemas. */
export interface ApiRequest<TBody = unknown, TQuery = Readonly<Record<string, string | undefined>>> {
  readonly operation: string;
  readonly principal: Principal;
  /** The principal and, on `acl` routes, the route's ACL action: what services check (core/accounts/access.ts). */
  readonly access: Access;
  /** The JSON body, already checked against the route's `requestSchema` (undefined when it has none). */
  readonly body: TBody;
  /** Path parameters (`{id}`, `{credentialId}`). */
  readonly params: Readonly<Record<string, string>>;
  /** Query string parameters, checked against the route's `querySchema`. */
  readonly query: TQuery;
}

/** One route's operation: its request typed by the route's schemas (contract/routes.ts RequestBody, RequestQuery). */
export type ApiOperation<O extends Operation> = (request: ApiRequest<RequestBody<O>, RequestQuery<O>>, deps: Dependencies) => unknown;

export type ApiHandler = (event: ApiEvent, context: Context) => Promise<ApiResult>;

/** The one logger of the API entry points. */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'xks-key-manager-api' });

export function apiHandler<O extends Operation>(operation: O, fn: ApiOperation<O>): ApiHandler {
  const route = routeFor(operation);
  const successStatus = route.successStatus ?? 200;
  const handler = middy<ApiEvent, ApiResult>()
    // logEvent false even if POWERTOOLS_LOGGER_LOG_EVENT is set: events carry PINs and secrets.
    .use(injectLambdaContext(logger, { resetKeys: true, logEvent: false }))
    .before(() => logger.appendKeys({ operation }))
    .use(errorResponse(logger))
    .use(authenticate(route, () => dependencies().tokens))
    .use(validateRequest(route))
    .handler(async (event: ApiEvent): Promise<ApiResult> => {
      const principal = event.principal ?? ANONYMOUS;
      if (principal.username) logger.appendKeys({ user: principal.username });
      const result = await fn(
        {
          operation,
          principal,
          access: { principal, ...(route.access.kind === 'acl' ? { action: route.access.action, ...(route.access.byKeyKind ? { byKeyKind: route.access.byKeyKind } : {}) } : {}) },
          // What validateRequest checked against the route's schemas.
          body: event.input?.body as RequestBody<O>,
          params: Object.fromEntries(Object.entries(event.pathParameters ?? {}).filter((e): e is [string, string] => e[1] !== undefined)),
          query: (event.input?.query ?? {}) as RequestQuery<O>,
        },
        dependencies(),
      );
      logger.info('request done', { statusCode: successStatus });
      // A 204 route whose operation has something to say (e.g. a credential deleted while in use) answers 200 with it.
      if (successStatus === 204 && result === undefined) return { statusCode: 204, headers: {}, body: '' };
      return { statusCode: successStatus === 204 ? 200 : successStatus, headers: { ...JSON_HEADERS }, body: JSON.stringify(result ?? null) };
    });
  return (event, context) => handler(event, context);
}
