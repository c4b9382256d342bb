/**
 * Authentication and the route-level half of authorization: `Authorization: Bearer <JWT>` →
 * Principal (401 when missing or bad); admin-only routes refuse everyone else with 403 before any
 * input is read. ACL routes are decided by the services, which know which account container a
 * resource lives in (core/accounts/access.ts).
 */
import type { MiddlewareObj } from '@middy/core';
import type { RouteDefinition } from '../../contract/routes';
import { ForbiddenError, UnauthorizedError } from '../../core/errors';
import type { TokenVerifier } from '../../core/ports/token-verifier';
import { ANONYMOUS, type ApiEvent, type ApiResult } from './api-event';

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** The token of an `Authorization: Bearer <token>` header value; undefined when absent or of another form. */
export function bearerToken(header: string | undefined): string | undefined {
  return header === undefined ? undefined : BEARER.exec(header)?.[1];
}

export function authenticate(route: RouteDefinition, tokens: () => TokenVerifier): MiddlewareObj<ApiEvent, ApiResult> {
  return {
    name: 'authenticate',
    before: async ({ event }) => {
      if (route.access.kind === 'public') {
        event.principal = ANONYMOUS;
        return;
      }
      const header = Object.entries(event.headers ?? {}).find(([name]) => name.toLowerCase() === 'authorization')?.[1];
      const token = bearerToken(header);
      if (token === undefined) throw new UnauthorizedError('An Authorization: Bearer <token> header is required');
      const principal = await tokens().verify(token);
      if (route.access.kind === 'admin' && !principal.isAdmin) throw new ForbiddenError();
      event.principal = principal;
    },
  };
}
