/**
 * The one place errors become responses: a KeyManagerError answers with its
 * status and CCKM body `{code, codeDesc, message}`; an HSM failure that a service did not translate
 * is a 502; a throttled or failing state store is a 503 with `Retry-After`; anything else is a bare 500 whose detail goes to the log only. Errors are logged here,
 * once, without the request body.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { MiddlewareObj } from '@middy/core';
import { DependencyError, KeyManagerError, ServiceUnavailableError, isError } from '../../core/errors';
import { HsmError } from '../../core/ports/hsm';
import { JSON_HEADERS, type ApiEvent, type ApiResult } from './api-event';

export const INTERNAL_ERROR_BODY = { code: 500, codeDesc: 'NCERRInternalServerError: Internal error', message: 'Internal error' } as const;

export function errorResponse(logger: Logger): MiddlewareObj<ApiEvent, ApiResult> {
  return {
    name: 'errorResponse',
    onError: (request) => {
      const error = translate(request.error);
      if (isError(error, KeyManagerError)) {
        if (error.statusCode >= 500) logger.warn('request failed on a dependency', { statusCode: error.statusCode, error: request.error as Error });
        else logger.info('request refused', { statusCode: error.statusCode, code: error.code, reason: error.message });
        const headers: Record<string, string> = { ...JSON_HEADERS };
        if (isError(error, ServiceUnavailableError)) headers['Retry-After'] = String(error.retryAfterSeconds);
        request.response = { statusCode: error.statusCode, headers, body: JSON.stringify(error.toJSON()) };
        return;
      }
      logger.error('unhandled error', request.error as Error);
      request.response = { statusCode: 500, headers: { ...JSON_HEADERS }, body: JSON.stringify(INTERNAL_ERROR_BODY) };
    },
  };
}

function translate(error: unknown): unknown {
  if (isError(error, HsmError)) {
    return new DependencyError(`The HSM could not complete the operation (${error.returnCode ?? error.reason})`, { cause: error });
  }
  return error;
}
