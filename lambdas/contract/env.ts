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
  /**
   * Functions that create secrets: the ARN pattern (`arn:<partition>:iam::<account>:role/<path>/*`)
   * of the deployment's roles; each new secret's resource policy denies every other principal.
   */
  secretsAllowedPrincipalArnPattern: 'SECRETS_ALLOWED_PRINCIPAL_ARN_PATTERN',
  /**
   * On AWS, prepended to every secret name (`<stack name>/`), so that two deployments in one
   * account neither share names nor each other's grants. @default '' (no prefix)
   */
  secretNamePrefix: 'SECRET_NAME_PREFIX',
  /** Functions that create secrets: the deployment's KMS key that encrypts them (its ARN). @default - aws/secretsmanager */
  secretsKmsKeyId: 'SECRETS_KMS_KEY_ID',
  userPoolId: 'USER_POOL_ID',
  userPoolClientId: 'USER_POOL_CLIENT_ID',
  /** Local mode: the folder holding local state (.local/ by default). */
  localStateDir: 'LOCAL_STATE_DIR',
  /** The AWS SDK's endpoint override for STS (local mode: the local AWS stand-in). */
  awsEndpointUrlSts: 'AWS_ENDPOINT_URL_STS',
  /** The CloudHSMv2 endpoint override (the SDK's own variable name; the local runner sets it to the AWS stand-in). */
  cloudHsmEndpoint: 'AWS_ENDPOINT_URL_CLOUDHSM_V2',
  /** PKCS#11 library per HSM type (defaults in adapters/pkcs11). */
  pkcs11LibrarySofthsm: 'PKCS11_LIBRARY_SOFTHSM',
  pkcs11LibraryLuna: 'PKCS11_LIBRARY_LUNA',
  pkcs11LibraryCloudhsm: 'PKCS11_LIBRARY_CLOUDHSM',
  /** Where PKCS#11 calls run per HSM type, e.g. `softhsm=worker-thread` (defaults in adapters/pkcs11/config.ts). */
  pkcs11CallModes: 'PKCS11_CALL_MODES',
  /** Job queues: `{"<JobKind>": "<SQS queue URL>"}` of the kinds a function starts or works on (contract/jobs.ts). */
  jobQueueUrls: 'JOB_QUEUE_URLS',
  logLevel: 'POWERTOOLS_LOG_LEVEL',
  serviceName: 'POWERTOOLS_SERVICE_NAME',
  /** Powertools Metrics namespace (`METRICS.namespace`). */
  metricsNamespace: 'POWERTOOLS_METRICS_NAMESPACE',
  /** XKS proxy: `xksProxyFleetSize` its GetHealthStatus reports (e.g. the provisioned concurrency). @default 1 */
  xksProxyFleetSize: 'XKS_PROXY_FLEET_SIZE',
  /**
   * XKS proxy behind an ALB: `true` when the listener's mutual authentication runs in `verify` mode,
   * so the proxy may trust the ALB's `x-amzn-mtls-clientcert-*` headers; on management functions,
   * that key stores may enable mTLS (the deployment has a trust store). @default false
   */
  xksAlbMtlsVerify: 'XKS_ALB_MTLS_VERIFY',
  /** Job configuration routes: the stack's EventBridge Scheduler schedule group. */
  jobScheduleGroup: 'JOB_SCHEDULE_GROUP',
  /** Job configuration routes: ARN of the job-runner function (schedules' target, run-now's invoke). */
  jobRunnerFunctionArn: 'JOB_RUNNER_FUNCTION_ARN',
  /** Job configuration routes: ARN of the role EventBridge Scheduler assumes to invoke the runner. */
  jobSchedulerRoleArn: 'JOB_SCHEDULER_ROLE_ARN',
  /** Job configuration routes: ARN of the queue that gets invocations that failed after every retry. */
  jobDeadLetterQueueArn: 'JOB_DEAD_LETTER_QUEUE_ARN',
} as const;

/** Cognito groups (and the same claim in local tokens). */
export const GROUPS = { admins: 'cckm-admins', users: 'cckm-users' } as const;

/**
 * The OAuth scope every authenticated route requires, in API Gateway's Cognito authorizer and in
 * the functions' token verifier alike: the one Cognito puts in every access token that a user pool
 * sign-in (InitiateAuth, SRP or USER_PASSWORD_AUTH) issues. With a scope on a method API Gateway
 * accepts access tokens only, which is what the functions verify (README: "Getting a token").
 */
export const API_SCOPE = 'aws.cognito.signin.user.admin';

/** The one state table's key schema; the CDK StateTable construct and the DynamoDB adapter agree on it. */
export const STATE_TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  listIndex: { name: 'byList', partitionKey: 'listPk', sortKey: 'listSk' },
  /** Partition key prefix of the credential last-use items, the only items the XKS proxy writes (its grant is limited to them). */
  credentialUsePkPrefix: 'credentialUse#',
  /** Partition key prefix of the key store records (`<kind>#<id>`), which the XKS proxy's use writes check exist (its ConditionCheckItem grant is limited to them). */
  keyStorePkPrefix: 'keyStore#',
} as const;

/**
 * Secrets Manager name prefixes, one per kind of secret, so that IAM can scope each function to the
 * kinds its route needs (lib/ grants `secretsmanager:*Secret*` on `<prefix>*` only). The runtime
 * builds its secret names from them (core/secret-names.ts `secretNames`).
 */
export const SECRET_PREFIXES = {
  /** XKS secret access keys: `xks-key-manager/xks/<keyStoreId>/<credentialId>`. */
  xks: 'xks-key-manager/xks/',
  /** HSM partition PINs: `xks-key-manager/hsm-pin/<partitionId>`. */
  hsmPin: 'xks-key-manager/hsm-pin/',
  /** CloudHSM key stores' kmsuser passwords: `xks-key-manager/cloudhsm-password/<keyStoreId>`. */
  cloudHsmPassword: 'xks-key-manager/cloudhsm-password/',
} as const;

/**
 * Name prefix of the IAM roles the control plane may assume in registered AWS accounts: the CDK
 * grants `sts:AssumeRole` on `role/<prefix>*` only, and the STS adapter names it when a role cannot
 * be assumed.
 */
export const ACCOUNT_ROLE_NAME_PREFIX = 'xks-key-manager-';

/**
 * CloudWatch metrics of the XKS proxy, emitted with Powertools Metrics (EMF) and read by the CDK
 * dashboard and alarms (lib/). Powertools adds the `service` dimension to every metric, so each
 * metric is published with exactly the dimension set written next to it: `{service, <dimension>}`,
 * with `service` = `METRICS.service` (the proxy's POWERTOOLS_SERVICE_NAME).
 */
export const METRICS = {
  namespace: 'XksKeyManager',
  /** POWERTOOLS_SERVICE_NAME of the XKS proxy function (and value of the `service` dimension). */
  service: 'xks-proxy',
  /** Milliseconds from request received to response composed; dimensions {service, operation}. */
  xksLatency: 'XksLatency',
  /** Count, one per request whose key store is known; dimensions {service, keyStoreId}. */
  xksRequests: 'XksRequests',
  /** Count, one per request answered with an error; dimensions {service, errorName}. */
  xksErrors: 'XksErrors',
  /** Count, one per deep health check (encrypt+decrypt with the health-check key) that failed; dimensions {service}. */
  healthCheckFailed: 'HealthCheckFailed',
  /** Count, one per deep health check that passed; dimensions {service}. */
  healthCheckPassed: 'HealthCheckPassed',
  /**
   * Count, one per HSM failure that dropped a partition's sessions (a device error, a token gone),
   * also when the retry on a fresh session then served the request; dimensions {service}.
   */
  hsmConnectionDropped: 'HsmConnectionDropped',
  dimensions: { operation: 'operation', errorName: 'errorName', keyStoreId: 'keyStoreId' },
  /** Values of the `operation` dimension: the spec's operation names. */
  operations: ['GetHealthStatus', 'GetKeyMetadata', 'Encrypt', 'Decrypt'],
} as const;
