/** Every request and query schema of the route table compiles under Ajv's strict mode, as the request middleware compiles them. */
import Ajv from 'ajv';
import { routes } from '../../../lambdas/contract/routes';

it.each(routes.filter((r) => r.requestSchema !== undefined || r.querySchema !== undefined).map((r) => [r.operation, r] as const))('%s: its schemas compile in strict mode', (_name, route) => {
  const ajv = new Ajv({ allErrors: false, strict: true });
  for (const schema of [route.requestSchema, route.querySchema]) if (schema !== undefined) expect(() => ajv.compile(schema)).not.toThrow();
});
