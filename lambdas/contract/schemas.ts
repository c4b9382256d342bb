/**
 * Request schemas of the management API, referenced by the route table.
 * Plain data (JSON Schema objects). Validated once, by middleware (runtime/), with Ajv.
 * TODO(control-plane): complete every schema with the seeds' fields and bounds.
 */
import type { JsonSchema } from './json-schema';

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
  createKeyStore: object(),
  updateKeyStore: object(),
  listKeyStoresQuery: object(),
  listCredentialsQuery: object(),
  createVirtualKey: object(),
  updateVirtualKey: object(),
  listVirtualKeysQuery: object(),
  listVersionsQuery: object(),
  createHyokKey: object(),
  listAwsKeysQuery: object(),
  rotateHyokKey: object(),
} satisfies Record<string, JsonSchema>;
