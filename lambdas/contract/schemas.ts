/**
 * Request schemas of the management API, referenced by the route table.
 * Plain data (JSON Schema objects). Validated once, by middleware (runtime/), with Ajv.
 * TODO(control-plane): complete every schema with the seeds' fields and bounds.
 */
import type { JsonSchema } from './json-schema';
import { hyokKeySchemas, keyStoreSchemas, virtualKeySchemas } from './key-schemas';

const object = (properties: Record<string, JsonSchema> = {}, required: string[] = []): JsonSchema => ({
  type: 'object',
  properties,
  required,
  additionalProperties: false,
});

export const schemas = {
  createAccountContainer: object(),
  updateAccountContainer: object(),
  updateAcls: object(),
  listAccountContainersQuery: object(),
  createHsmPartition: object(),
  updateHsmPartition: object(),
  listHsmPartitionsQuery: object(),
  createHsmKey: object(),
  listHsmKeysQuery: object(),
  createKeyStore: keyStoreSchemas.create,
  updateKeyStore: keyStoreSchemas.update,
  listKeyStoresQuery: keyStoreSchemas.listQuery,
  listCredentialsQuery: keyStoreSchemas.listCredentialsQuery,
  createVirtualKey: virtualKeySchemas.create,
  updateVirtualKey: virtualKeySchemas.update,
  listVirtualKeysQuery: virtualKeySchemas.listQuery,
  listVersionsQuery: virtualKeySchemas.listVersionsQuery,
  createHyokKey: hyokKeySchemas.create,
  listAwsKeysQuery: hyokKeySchemas.listQuery,
  rotateHyokKey: hyokKeySchemas.rotate,
} satisfies Record<string, JsonSchema>;
