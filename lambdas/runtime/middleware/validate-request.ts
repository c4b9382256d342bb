/**
 * Request validation, done once, from the route table: the path parameters the route's path
 * declares, the JSON body against `requestSchema` and the query string against `querySchema` (Ajv).
 * A malformed body, a repeated query parameter or a schema violation is a 400 that names the field;
 * nothing reaches a service unchecked.
 */
import type { MiddlewareObj } from '@middy/core';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { RouteDefinition } from '../../contract/routes';
import { pathParameters } from '../../contract/schema-parts';
import { ValidationError } from '../../core/errors';
import type { ApiEvent, ApiResult } from './api-event';

// verbose: errors carry the schema that failed, whose `description` (when it has one) is the message.
const ajv = new Ajv({ allErrors: false, strict: true, verbose: true });
addFormats(ajv);

/** Compiled once per schema object (several routes share one). */
const compiled = new WeakMap<object, ValidateFunction>();
function validatorFor(schema: object): ValidateFunction {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  return validate;
}

export function validateRequest(route: RouteDefinition): MiddlewareObj<ApiEvent, ApiResult> {
  // Compiled when the handler module loads: a broken schema fails the deployment's first call loudly.
  const validateBody = route.requestSchema ? validatorFor(route.requestSchema) : undefined;
  const validateQuery = route.querySchema ? validatorFor(route.querySchema) : undefined;
  const paramNames = [...route.path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]);
  const validateParams = paramNames.length > 0 ? ajv.compile(pathParameters(paramNames)) : undefined;
  return {
    name: 'validateRequest',
    before: ({ event }) => {
      if (validateParams) check(validateParams, { ...(event.pathParameters ?? {}) }, 'path parameter');
      const query = { ...(event.queryStringParameters ?? {}) };
      if (validateQuery) {
        refuseRepeated(event.multiValueQueryStringParameters);
        check(validateQuery, query, 'query parameter');
      }
      let body: unknown;
      if (validateBody) {
        body = parseJsonBody(event);
        check(validateBody, body, 'field');
      }
      event.input = { body, query };
    },
  };
}

/** `?limit=5&limit=7`: API Gateway keeps only the last value, so which one was meant is ambiguous. */
function refuseRepeated(multiValue: Readonly<Record<string, readonly string[] | undefined>> | null): void {
  const repeated = Object.entries(multiValue ?? {}).find(([, values]) => (values?.length ?? 0) > 1);
  if (repeated) throw new ValidationError('is given more than once; give each query parameter once', repeated[0]);
}

/** The body as JSON; an absent body is `{}` (a POST without a body), malformed JSON a 400. */
function parseJsonBody(event: ApiEvent): unknown {
  if (event.body === null || event.body === undefined || event.body.trim() === '') return {};
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  try {
    return JSON.parse(text);
  } catch {
    throw new ValidationError('The request body is not valid JSON');
  }
}

function check(validate: ValidateFunction, value: unknown, what: string): void {
  if (validate(value)) return;
  const [error] = validate.errors ?? [];
  const { field, message } = describe(error, what);
  throw new ValidationError(message, field);
}

/** `local_hosted_params.max_credentials` from `/local_hosted_params/max_credentials`, with Ajv's message made plain. */
function describe(error: ErrorObject | undefined, what: string): { field?: string; message: string } {
  if (!error) return { message: 'The request is not valid' };
  const path = error.instancePath
    .split('/')
    .slice(1)
    .map((segment) => echoed(segment.replace(/~1/g, '/').replace(/~0/g, '~')))
    .reduce((acc, segment) => (/^\d+$/.test(segment) ? `${acc}[${segment}]` : acc ? `${acc}.${segment}` : segment), '');
  const join = (name: string): string => (path ? `${path}.${name}` : name);
  switch (error.keyword) {
    case 'required':
      return { field: join(error.params.missingProperty as string), message: `is required` };
    case 'additionalProperties':
      return { field: join(echoed(error.params.additionalProperty as string)), message: `is not a known ${what}` };
    case 'enum':
      return { field: path || undefined, message: `must be one of ${(error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` };
    default: {
      const message = describedBy(error) ?? error.message ?? 'is not valid';
      return path ? { field: path, message } : { message: `The request ${what === 'field' ? 'body' : 'query'} ${message}` };
    }
  }
}

/** A string's rule said in words: the failing schema's `description` (contract/aws-kms-fields.ts writes them as messages), for its string keywords. */
function describedBy(error: ErrorObject): string | undefined {
  const description = (error.parentSchema as { description?: unknown } | undefined)?.description;
  return typeof description === 'string' && STRING_KEYWORDS.has(error.keyword) ? description : undefined;
}

const STRING_KEYWORDS = new Set(['minLength', 'maxLength', 'pattern', 'not']);

/** A name from the request, as a message repeats it: cut short, so that a 100 KB key is not a 100 KB message and log line. */
function echoed(name: string): string {
  return name.length > 64 ? `${name.slice(0, 64)}…` : name;
}
