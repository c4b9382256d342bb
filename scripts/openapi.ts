/**
 * Prints the management API's OpenAPI 3.1 document, generated from the route table:
 *   npm run openapi [-- --server-url http://127.0.0.1:8080/api] > openapi.json
 */
import { parseArgs } from 'node:util';
import { openApiDocument } from '../lambdas/contract/openapi';
import { routes } from '../lambdas/contract/routes';

const { values } = parseArgs({ options: { 'server-url': { type: 'string' } } });
process.stdout.write(`${JSON.stringify(openApiDocument(routes, { serverUrl: values['server-url'] }), null, 2)}\n`);
