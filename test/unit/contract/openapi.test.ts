import { openApiDocument } from '../../../lambdas/contract/openapi';
import { routes } from '../../../lambdas/contract/routes';

type Operation = {
  operationId: string;
  security?: unknown[];
  parameters: { name: string; in: string }[];
  requestBody?: { content: { 'application/json': { schema: unknown } } };
  responses: Record<string, unknown>;
};

describe('openApiDocument', () => {
  const document = openApiDocument(routes, { serverUrl: 'http://127.0.0.1:8080/api' }) as {
    paths: Record<string, Record<string, Operation>>;
    servers: { url: string }[];
  };
  const operations = Object.values(document.paths).flatMap((methods) => Object.values(methods));

  it('has one operation per route, under the route path and method', () => {
    expect(operations).toHaveLength(routes.length);
    for (const route of routes) {
      expect(document.paths[route.path][route.method.toLowerCase()].operationId).toBe(route.operation);
    }
    expect(document.servers).toEqual([{ url: 'http://127.0.0.1:8080/api' }]);
  });

  it('requires the bearer token everywhere but on public routes', () => {
    for (const route of routes) {
      const operation = document.paths[route.path][route.method.toLowerCase()];
      expect(operation.security).toEqual(route.access.kind === 'public' ? [] : undefined);
      expect('401' in operation.responses).toBe(route.access.kind !== 'public');
    }
  });

  it('carries the route table schemas as request bodies and its path and query parameters', () => {
    for (const route of routes) {
      const operation = document.paths[route.path][route.method.toLowerCase()];
      expect(operation.requestBody?.content['application/json'].schema).toBe(route.requestSchema);
      const pathNames = [...route.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      expect(operation.parameters.filter((p) => p.in === 'path').map((p) => p.name)).toEqual(pathNames);
      const queryNames = Object.keys((route.querySchema?.properties ?? {}) as object);
      expect(operation.parameters.filter((p) => p.in === 'query').map((p) => p.name)).toEqual(queryNames);
      expect(Object.keys(operation.responses)).toContain(String(route.successStatus ?? 200));
    }
  });
});
