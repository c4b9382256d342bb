/**
 * Environment variable names shared by the CDK (which sets them) and the runtime (which reads
 * them once, in runtime/config.ts). Plain data.
 */
export const ENV = {
  /** `aws` (default) or `local` (bin/local.ts: DynamoDB Local, local secrets, in-process HSM agent). */
  mode: 'KEY_MANAGER_MODE',
  stateTableName: 'STATE_TABLE_NAME',
  /** DynamoDB endpoint override (DynamoDB Local). */
  dynamoDbEndpoint: 'DYNAMODB_ENDPOINT',
  hsmAgentFunctionName: 'HSM_AGENT_FUNCTION_NAME',
  userPoolId: 'USER_POOL_ID',
  userPoolClientId: 'USER_POOL_CLIENT_ID',
  /** Local mode: the folder holding local state (.local/ by default). */
  localStateDir: 'LOCAL_STATE_DIR',
  /** PKCS#11 library per HSM type (defaults in adapters/pkcs11). */
  pkcs11LibrarySofthsm: 'PKCS11_LIBRARY_SOFTHSM',
  pkcs11LibraryLuna: 'PKCS11_LIBRARY_LUNA',
  pkcs11LibraryCloudhsm: 'PKCS11_LIBRARY_CLOUDHSM',
  logLevel: 'POWERTOOLS_LOG_LEVEL',
  serviceName: 'POWERTOOLS_SERVICE_NAME',
} as const;

/** Cognito groups (and the same claim in local tokens). */
export const GROUPS = { admins: 'cckm-admins', users: 'cckm-users' } as const;

/** The one state table's key schema; the CDK StateTable construct and the DynamoDB adapter agree on it. */
export const STATE_TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  listIndex: { name: 'byList', partitionKey: 'listPk', sortKey: 'listSk' },
} as const;
