/**
 * The API Gateway (REST, proxy integration) event as the API middlewares leave it for the handler:
 * who called (set by `authenticate`) and the parsed, schema-checked input (set by `validateRequest`).
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { Principal } from '../../core/ports/token-verifier';

export interface ApiEvent extends APIGatewayProxyEvent {
  /** Set by the authenticate middleware (an anonymous principal on public routes). */
  principal?: Principal;
  /** Set by the validateRequest middleware. */
  input?: {
    readonly body: unknown;
    readonly query: Readonly<Record<string, string | undefined>>;
  };
}

export type ApiResult = APIGatewayProxyResult;

/** The caller of a public route: no name or group an ACL entry could match, never an admin. */
export const ANONYMOUS: Principal = { subject: '', username: '', groups: [], isAdmin: false };

export const JSON_HEADERS = { 'content-type': 'application/json' } as const;
