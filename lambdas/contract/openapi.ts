/**
 * The OpenAPI 3.1 document of the management API, generated from the route table (README,
 * "Architecture"). Plain data in, plain data out.
 * `npm run openapi` prints it.
 */
import type { JsonSchema } from './json-schema';
import type { RouteDefinition } from './routes';

export interface OpenApiOptions {
  /** Base URL of the API (e.g. the `ManagementApiUrl` output). @default `LOCAL_API_URL` (`npm start`'s) */
  readonly serverUrl?: string;
  readonly version?: string;
}

/** Where `npm start` serves the API by default. */
export const LOCAL_API_URL = 'http://127.0.0.1:8080/api';

const ERROR_BODY: JsonSchema = {
  type: 'object',
  description: 'CCKM-style error',
  properties: { code: { type: 'integer' }, codeDesc: { type: 'string' }, message: { type: 'string' } },
  required: ['code', 'codeDesc', 'message'],
};

const ERROR_STATUSES: Record<string, string> = {
  '400': 'Invalid input (the message names the field); nothing changed',
  '401': 'Missing, expired or invalid bearer token',
  '403': 'Not permitted (also for a resource a non-admin may not know of)',
  '404': 'Not found',
  '409': 'Conflict: duplicate name, resource in use, or changed concurrently',
  '429': 'Too many requests',
};

function pathParameterNames(path: string): string[] {
  return [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
}

/** ` (native keys: \`viewnative\`, ...)` for routes whose action depends on the kind of AWS key. */
function byKind(actions: Readonly<Record<string, string | undefined>> | undefined): string {
  const entries = Object.entries(actions ?? {});
  return entries.length === 0 ? '' : ` (${entries.map(([kind, action]) => `${kind} keys: \`${action}\``).join(', ')})`;
}

function operationOf(route: RouteDefinition): Record<string, unknown> {
  const access = route.access;
  const who =
    access.kind === 'admin' ? 'Admins only (group cckm-admins).'
    : access.kind === 'acl' ? `Admins, and users granted the ACL action \`${access.action}\` on the AWS account container${byKind(access.byKeyKind)}.`
    : access.kind === 'authenticated' ? 'Any signed-in user; results are limited to what the user may see.'
    : 'No authentication.';
  const queryProperties = (route.querySchema?.properties ?? {}) as Record<string, JsonSchema>;
  const success = String(route.successStatus ?? 200);
  return {
    operationId: route.operation,
    summary: route.summary,
    description: who,
    ...(access.kind === 'public' ? { security: [] } : {}),
    parameters: [
      ...pathParameterNames(route.path).map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } })),
      ...Object.entries(queryProperties).map(([name, schema]) => ({ name, in: 'query', required: false, schema })),
    ],
    ...(route.requestSchema ? { requestBody: { required: true, content: { 'application/json': { schema: route.requestSchema } } } } : {}),
    responses: {
      [success]: success === '204' ? { description: 'Done' } : { description: 'Success', content: { 'application/json': { schema: { type: 'object' } } } },
      ...Object.fromEntries(
        Object.entries(ERROR_STATUSES)
          .filter(([status]) => access.kind !== 'public' || !['401', '403'].includes(status))
          .map(([status, description]) => [status, { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } }]),
      ),
    },
  };
}

export function openApiDocument(routes: readonly RouteDefinition[], options: OpenApiOptions = {}): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    paths[route.path] ??= {};
    paths[route.path][route.method.toLowerCase()] = operationOf(route);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'xks-key-manager management API',
      version: options.version ?? '0.1.0',
      description: 'CCKM-shaped API for AWS KMS external key stores, XKS credentials, HSM partitions and keys, virtual keys and HYOK keys.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: options.serverUrl ?? LOCAL_API_URL }],
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT (Cognito access token; locally, the token in .local/endpoints.json)' } },
      schemas: { Error: ERROR_BODY },
    },
    paths,
  };
}
