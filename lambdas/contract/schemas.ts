/**
 * Request schemas of the management API, referenced by the route table.
 * JSON Schema objects written with TypeBox (schema-parts.ts): each request's TypeScript type is
 * derived from its schema (`RequestOf<typeof schema>`, exported beside it as `<Operation>Request`).
 * Validated once, by middleware (runtime/), with Ajv. Each area keeps its schemas in its own file;
 * this table names them for the routes.
 */
import { accountSchemas } from './account-schemas';
import { awsKeySchemas } from './aws-key-schemas';
import { hsmSchemas } from './hsm-schemas';
import type { RequestSchema } from './json-schema';
import { jobSchemas } from './job-schemas';
import { hyokKeySchemas, keyStoreSchemas, virtualKeySchemas } from './key-schemas';
import { schedulerSchemas } from './scheduler-schemas';

export const schemas = {
  createAccountContainer: accountSchemas.create,
  updateAccountContainer: accountSchemas.update,
  updateAcls: accountSchemas.updateAcls,
  listAccountContainersQuery: accountSchemas.listQuery,
  describeAwsAccount: accountSchemas.describe,
  createHsmPartition: hsmSchemas.createPartition,
  updateHsmPartition: hsmSchemas.updatePartition,
  listHsmPartitionsQuery: hsmSchemas.listPartitionsQuery,
  createHsmKey: hsmSchemas.createKey,
  updateHsmKey: hsmSchemas.updateKey,
  listHsmKeysQuery: hsmSchemas.listKeysQuery,
  createKeyStore: keyStoreSchemas.create,
  updateKeyStore: keyStoreSchemas.update,
  linkKeyStore: keyStoreSchemas.link,
  connectKeyStore: keyStoreSchemas.connect,
  unusedCloudHsmClusters: keyStoreSchemas.unusedCloudHsmClusters,
  createCloudHsmKey: keyStoreSchemas.createCloudHsmKey,
  listKeyStoresQuery: keyStoreSchemas.listQuery,
  listCredentialsQuery: keyStoreSchemas.listCredentialsQuery,
  createVirtualKey: virtualKeySchemas.create,
  updateVirtualKey: virtualKeySchemas.update,
  listVirtualKeysQuery: virtualKeySchemas.listQuery,
  listVersionsQuery: virtualKeySchemas.listVersionsQuery,
  createHyokKey: hyokKeySchemas.create,
  rotateHyokKey: hyokKeySchemas.rotate,
  linkHyokKey: awsKeySchemas.link,
  uploadAwsKey: awsKeySchemas.upload,
  importAwsKeyMaterial: awsKeySchemas.importMaterial,
  listAwsKeysQuery: awsKeySchemas.listQuery,
  scheduleAwsKeyDeletion: awsKeySchemas.scheduleDeletion,
  awsKeyAlias: awsKeySchemas.alias,
  updateAwsKeyDescription: awsKeySchemas.description,
  addAwsKeyTags: awsKeySchemas.addTags,
  removeAwsKeyTags: awsKeySchemas.removeTags,
  updateAwsKeyPolicy: awsKeySchemas.policy,
  ...schedulerSchemas,
  startSynchronizationJob: jobSchemas.start,
  listSynchronizationJobsQuery: jobSchemas.listQuery,
} satisfies Record<string, RequestSchema>;
