/**
 * The single route table of the management API (README, "Architecture").
 *
 * Every consumer reads it: the CDK ManagementApi construct (API Gateway resources and request
 * models, one function per row, least-privilege grants from `needs`), the local gateway
 * (bin/local.ts), the authorization middleware (`access`), request validation (`requestSchema`,
 * `querySchema`) and the OpenAPI document (openapi.ts, `npm run openapi`). It is plain data: no runtime imports, so `lib/` may import it.
 *
 * Adding an operation = one row here + one file in lambdas/handlers/ exporting `handler`.
 */
import { type AclAction, AWS_KEY_VIEW_ACTIONS, type AwsKeyKind } from './acl';
import type { JobKind } from './job-kinds';
import type { RequestOf, RequestSchema } from './json-schema';
import { schemas } from './schemas';

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/**
 * Who may call a route.
 * - `admin`: members of the admins group only.
 * - `acl`: admins, and users whose AWS account container ACL grants `action` on the container that
 *   holds the resource (the service resolves the container and checks; lists are filtered). On
 *   AWS key routes `byKeyKind` names the action for kinds of key where it differs (seeing a native
 *   key takes `viewnative`, an HYOK key `viewhyokkey`).
 * - `authenticated`: any signed-in user; the service filters what it returns (e.g. the containers
 *   a user has any ACL on).
 * - `public`: no token (only the key store health route).
 */
export type RouteAccess =
  | { readonly kind: 'admin' }
  | { readonly kind: 'acl'; readonly action: AclAction; readonly byKeyKind?: Readonly<Partial<Record<AwsKeyKind, AclAction>>> }
  | { readonly kind: 'authenticated' }
  | { readonly kind: 'public' };

/** What a route's function may do with one kind of secret. */
export type SecretAccess = 'read' | 'write' | 'delete';

/** What a route's function needs at run time; the CDK grants exactly this and nothing more. */
export interface RouteNeeds {
  /** Access to the state table; absent when the operation never touches it. */
  readonly state?: 'read' | 'readwrite';
  /**
   * Secrets by kind (XKS secret access keys, HSM partition PINs): `read` their values, `write`
   * (create, replace, delete, and read back), or `delete` only (never read a value).
   */
  readonly secrets?: { readonly xks?: SecretAccess; readonly hsmPin?: SecretAccess; readonly cloudHsmPassword?: SecretAccess };
  /** Invokes the HSM agent (the only way the control plane reaches PKCS#11). */
  readonly hsmAgent?: boolean;
  /** Calls STS AssumeRole on registered account roles (sts:AssumeRole on `role/<ACCOUNT_ROLE_NAME_PREFIX>*`). */
  readonly assumeAccountRole?: boolean;
  /**
   * AWS KMS actions the route calls in account containers' accounts: through the container's role
   * (so the function may also assume account roles) or, for a container without one, with the
   * function's own role, which the CDK grants exactly these actions.
   */
  readonly awsKms?: readonly AwsKmsAction[];
  /** AWS CloudHSM actions the route calls in account containers' accounts, the same way as `awsKms`. */
  readonly cloudHsm?: readonly CloudHsmAction[];
  /** Changes job configurations' schedules (EventBridge Scheduler) and starts runs now (invokes the job runner). */
  readonly jobScheduler?: boolean;
  /** Starts jobs of these kinds (contract/jobs.ts): the function may send units to their queues. */
  readonly startsJobs?: readonly JobKind[];
}

/** The AWS CloudHSM (CloudHSMv2) API actions the control plane calls (IAM action `cloudhsm:<name>`). */
export type CloudHsmAction = 'DescribeClusters';

/** The AWS KMS API actions the control plane calls (IAM action `kms:<name>`). */
export type AwsKmsAction =
  | 'CreateCustomKeyStore' | 'DescribeCustomKeyStores' | 'UpdateCustomKeyStore' | 'ConnectCustomKeyStore'
  | 'DisconnectCustomKeyStore' | 'DeleteCustomKeyStore' | 'ListKeys' | 'DescribeKey'
  | 'CreateKey' | 'GetKeyPolicy' | 'ListAliases' | 'ListResourceTags' | 'EnableKey' | 'DisableKey' | 'ScheduleKeyDeletion'
  | 'CancelKeyDeletion' | 'CreateAlias' | 'DeleteAlias' | 'UpdateKeyDescription' | 'TagResource' | 'UntagResource' | 'PutKeyPolicy'
  | 'GetParametersForImport' | 'ImportKeyMaterial' | 'DeleteImportedKeyMaterial' | 'GetKeyRotationStatus';

export interface RouteDefinition {
  /** CCKM-style operation name; also the handler file's name in kebab case. */
  readonly operation: string;
  readonly method: HttpMethod;
  /** Path under the API root, with `{param}` placeholders (API Gateway syntax). */
  readonly path: string;
  /** Handler module, relative to the repository root; it exports `handler`. */
  readonly handler: string;
  readonly access: RouteAccess;
  /** JSON schema of the request body (POST/PATCH); validated once, by middleware; the handler's `req.body` has its type. */
  readonly requestSchema?: RequestSchema;
  /** JSON schema of the query string parameters (all strings, as received); the handler's `req.query` has its type. */
  readonly querySchema?: RequestSchema;
  /** Success status (default 200). */
  readonly successStatus?: 200 | 201 | 204;
  readonly needs: RouteNeeds;
  readonly summary: string;
}

const h = (file: string): string => `lambdas/handlers/${file}.ts`;
const READ: RouteNeeds = { state: 'read' };
const WRITE: RouteNeeds = { state: 'readwrite' };
/** Calls `actions` in account containers' accounts (through their roles, which the function may therefore assume). */
const callsAwsKms = (...actions: AwsKmsAction[]): RouteNeeds => ({ assumeAccountRole: true, awsKms: [...new Set(actions)] });
/** Routes that show a key store read a linked one's connection state from AWS KMS. */
const SHOWS_KEY_STORE: AwsKmsAction = 'DescribeCustomKeyStores';
/** Linking creates the store in AWS KMS, and deletes it there again when the key manager cannot record it. */
const LINKS_KEY_STORE: readonly AwsKmsAction[] = ['CreateCustomKeyStore', 'DeleteCustomKeyStore', SHOWS_KEY_STORE];
/** What refreshing an AWS key's record reads (after every AWS key operation). */
const READS_KMS_KEY: readonly AwsKmsAction[] = ['DescribeKey', 'ListAliases', 'ListResourceTags', 'GetKeyPolicy'];
/** One AWS KMS call on a key, then its record refreshed. */
const changesKmsKey = (...actions: AwsKmsAction[]): RouteNeeds => ({ ...WRITE, ...callsAwsKms(...actions, ...READS_KMS_KEY) });
/** Linking an HYOK key creates its KMS key and alias (its deletion is scheduled again when the link cannot complete). */
const LINKS_HYOK_KEY = changesKmsKey('CreateKey', 'CreateAlias', 'ScheduleKeyDeletion');

const ACCOUNTS = '/v1/cckm/aws/kms';
const PARTITIONS = '/v1/cckm/hsm/partitions';
const HSM_KEYS = '/v1/cckm/hsm/keys';
const KEY_STORES = '/v1/cckm/aws/custom-key-stores';
const VIRTUAL_KEYS = '/v1/cckm/virtual/keys';
const AWS_KEYS = '/v1/cckm/aws/keys';
const JOB_CONFIGS = '/v1/scheduler/job-configs';
/** Job configuration changes write the record and its schedule in one request. */
const SCHEDULES: RouteNeeds = { ...WRITE, jobScheduler: true };
const KEY_SYNC_JOBS = '/v1/cckm/aws/synchronization-jobs';
const STORE_SYNC_JOBS = `${KEY_STORES}/synchronization-jobs`;
/** Seeing an AWS key takes the view action of its kind. */
const VIEW_AWS_KEY: RouteAccess = { kind: 'acl', action: AWS_KEY_VIEW_ACTIONS.hyok, byKeyKind: AWS_KEY_VIEW_ACTIONS };

/** The table as written: `as const` keeps each row's operation name and its schemas' types (RequestBody, RequestQuery below). */
const ROUTE_TABLE = [
  // AWS account containers
  { operation: 'CreateAccountContainer', method: 'POST', path: ACCOUNTS, handler: h('create-account-container'), access: { kind: 'admin' }, requestSchema: schemas.createAccountContainer, successStatus: 201, needs: { ...WRITE, assumeAccountRole: true }, summary: 'Add an AWS account container' },
  { operation: 'ListAccountContainers', method: 'GET', path: ACCOUNTS, handler: h('list-account-containers'), access: { kind: 'authenticated' }, querySchema: schemas.listAccountContainersQuery, needs: READ, summary: 'List AWS account containers' },
  { operation: 'GetAccountContainer', method: 'GET', path: `${ACCOUNTS}/{id}`, handler: h('get-account-container'), access: { kind: 'authenticated' }, needs: READ, summary: 'Get an AWS account container' },
  { operation: 'UpdateAccountContainer', method: 'PATCH', path: `${ACCOUNTS}/{id}`, handler: h('update-account-container'), access: { kind: 'admin' }, requestSchema: schemas.updateAccountContainer, needs: { ...WRITE, assumeAccountRole: true }, summary: 'Update an AWS account container' },
  { operation: 'DeleteAccountContainer', method: 'DELETE', path: `${ACCOUNTS}/{id}`, handler: h('delete-account-container'), access: { kind: 'admin' }, successStatus: 204, needs: WRITE, summary: 'Delete an AWS account container' },
  { operation: 'DescribeAwsAccount', method: 'POST', path: '/v1/cckm/aws/accounts', handler: h('describe-aws-account'), access: { kind: 'admin' }, requestSchema: schemas.describeAwsAccount, needs: { assumeAccountRole: true }, summary: 'Account id and regions of an AWS account reached through a role (or the deployment\'s own account)' },
  { operation: 'UpdateAccountContainerAcls', method: 'POST', path: `${ACCOUNTS}/{id}/update-acls`, handler: h('update-account-container-acls'), access: { kind: 'admin' }, requestSchema: schemas.updateAcls, needs: WRITE, summary: 'Grant or revoke ACL actions on an AWS account container' },

  // HSM partitions (key sources: Luna, CloudHSM, SoftHSM2)
  { operation: 'CreateHsmPartition', method: 'POST', path: PARTITIONS, handler: h('create-hsm-partition'), access: { kind: 'admin' }, requestSchema: schemas.createHsmPartition, successStatus: 201, needs: { ...WRITE, secrets: { hsmPin: 'write' } }, summary: 'Register an HSM partition' },
  { operation: 'ListHsmPartitions', method: 'GET', path: PARTITIONS, handler: h('list-hsm-partitions'), access: { kind: 'admin' }, querySchema: schemas.listHsmPartitionsQuery, needs: READ, summary: 'List HSM partitions' },
  { operation: 'GetHsmPartition', method: 'GET', path: `${PARTITIONS}/{id}`, handler: h('get-hsm-partition'), access: { kind: 'admin' }, needs: READ, summary: 'Get an HSM partition' },
  { operation: 'UpdateHsmPartition', method: 'PATCH', path: `${PARTITIONS}/{id}`, handler: h('update-hsm-partition'), access: { kind: 'admin' }, requestSchema: schemas.updateHsmPartition, needs: { ...WRITE, secrets: { hsmPin: 'write' } }, summary: 'Update an HSM partition' },
  { operation: 'DeleteHsmPartition', method: 'DELETE', path: `${PARTITIONS}/{id}`, handler: h('delete-hsm-partition'), access: { kind: 'admin' }, successStatus: 204, needs: { ...WRITE, secrets: { hsmPin: 'delete' } }, summary: 'Delete an HSM partition' },
  { operation: 'TestHsmPartition', method: 'POST', path: `${PARTITIONS}/{id}/test`, handler: h('test-hsm-partition'), access: { kind: 'admin' }, needs: { ...READ, hsmAgent: true }, summary: 'Log in to an HSM partition and report its state' },

  // HSM source keys
  { operation: 'CreateHsmKey', method: 'POST', path: HSM_KEYS, handler: h('create-hsm-key'), access: { kind: 'admin' }, requestSchema: schemas.createHsmKey, successStatus: 201, needs: { ...WRITE, hsmAgent: true }, summary: 'Generate a key inside an HSM partition (AES, RSA or EC key pair, generic secret for HMAC)' },
  { operation: 'ListHsmKeys', method: 'GET', path: HSM_KEYS, handler: h('list-hsm-keys'), access: { kind: 'authenticated' }, querySchema: schemas.listHsmKeysQuery, needs: READ, summary: 'List HSM source keys' },
  { operation: 'GetHsmKey', method: 'GET', path: `${HSM_KEYS}/{id}`, handler: h('get-hsm-key'), access: { kind: 'authenticated' }, needs: READ, summary: 'Get an HSM source key' },
  { operation: 'UpdateHsmKey', method: 'PATCH', path: `${HSM_KEYS}/{id}`, handler: h('update-hsm-key'), access: { kind: 'admin' }, requestSchema: schemas.updateHsmKey, needs: WRITE, summary: 'Set the owning account container (kms_id) of an HSM source key' },
  { operation: 'DeleteHsmKey', method: 'DELETE', path: `${HSM_KEYS}/{id}`, handler: h('delete-hsm-key'), access: { kind: 'admin' }, successStatus: 204, needs: { ...WRITE, hsmAgent: true }, summary: 'Destroy an HSM source key' },

  // External custom key stores
  { operation: 'CreateKeyStore', method: 'POST', path: KEY_STORES, handler: h('create-key-store'), access: { kind: 'acl', action: 'keystoreadd' }, requestSchema: schemas.createKeyStore, successStatus: 201, needs: { ...WRITE, secrets: { xks: 'write', cloudHsmPassword: 'write' }, hsmAgent: true, ...callsAwsKms(...LINKS_KEY_STORE) }, summary: 'Create a custom key store: external (linked: in AWS KMS too) or CloudHSM (in AWS KMS)' },
  { operation: 'ListKeyStores', method: 'GET', path: KEY_STORES, handler: h('list-key-stores'), access: { kind: 'acl', action: 'viewkeystore' }, querySchema: schemas.listKeyStoresQuery, needs: { ...READ, ...callsAwsKms(SHOWS_KEY_STORE) }, summary: 'List custom key stores' },
  { operation: 'GetKeyStore', method: 'GET', path: `${KEY_STORES}/{id}`, handler: h('get-key-store'), access: { kind: 'acl', action: 'viewkeystore' }, needs: { ...READ, ...callsAwsKms(SHOWS_KEY_STORE) }, summary: 'Get a custom key store' },
  { operation: 'UpdateKeyStore', method: 'PATCH', path: `${KEY_STORES}/{id}`, handler: h('update-key-store'), access: { kind: 'acl', action: 'keystoreupdate' }, requestSchema: schemas.updateKeyStore, needs: { ...WRITE, secrets: { cloudHsmPassword: 'write' }, hsmAgent: true, ...callsAwsKms('UpdateCustomKeyStore', SHOWS_KEY_STORE) }, summary: 'Update a custom key store (linked: in AWS KMS too)' },
  { operation: 'DeleteKeyStore', method: 'DELETE', path: `${KEY_STORES}/{id}`, handler: h('delete-key-store'), access: { kind: 'acl', action: 'keystoredelete' }, successStatus: 204, needs: { ...WRITE, secrets: { xks: 'delete', cloudHsmPassword: 'delete' }, ...callsAwsKms('DeleteCustomKeyStore', 'ListKeys', 'DescribeKey', SHOWS_KEY_STORE) }, summary: 'Delete a custom key store (linked: in AWS KMS too)' },
  { operation: 'BlockKeyStore', method: 'POST', path: `${KEY_STORES}/{id}/block`, handler: h('block-key-store'), access: { kind: 'acl', action: 'keystoreblock' }, needs: { ...WRITE, ...callsAwsKms(SHOWS_KEY_STORE) }, summary: 'Block AWS KMS requests to a key store' },
  { operation: 'UnblockKeyStore', method: 'POST', path: `${KEY_STORES}/{id}/unblock`, handler: h('unblock-key-store'), access: { kind: 'acl', action: 'keystoreunblock' }, needs: { ...WRITE, ...callsAwsKms(SHOWS_KEY_STORE) }, summary: 'Unblock AWS KMS requests to a key store' },
  { operation: 'LinkKeyStore', method: 'POST', path: `${KEY_STORES}/{id}/link`, handler: h('link-key-store'), access: { kind: 'acl', action: 'keystorelink' }, requestSchema: schemas.linkKeyStore, needs: { ...WRITE, secrets: { xks: 'read' }, ...callsAwsKms(...LINKS_KEY_STORE) }, summary: 'Link an unlinked key store: create it in AWS KMS' },
  { operation: 'ConnectKeyStore', method: 'POST', path: `${KEY_STORES}/{id}/connect`, handler: h('connect-key-store'), access: { kind: 'acl', action: 'keystoreconnect' }, requestSchema: schemas.connectKeyStore, needs: { ...READ, secrets: { cloudHsmPassword: 'write' }, ...callsAwsKms('ConnectCustomKeyStore', 'UpdateCustomKeyStore', SHOWS_KEY_STORE) }, summary: 'Connect a linked or CloudHSM key store in AWS KMS (CloudHSM: optionally with a new kmsuser password)' },
  { operation: 'DisconnectKeyStore', method: 'POST', path: `${KEY_STORES}/{id}/disconnect`, handler: h('disconnect-key-store'), access: { kind: 'acl', action: 'keystoredisconnect' }, needs: { ...READ, ...callsAwsKms('DisconnectCustomKeyStore', SHOWS_KEY_STORE) }, summary: 'Disconnect a linked or CloudHSM key store in AWS KMS' },
  { operation: 'GetUnusedCloudHsmClusters', method: 'POST', path: `${KEY_STORES}/get-unused-cloudhsm-clusters`, handler: h('get-unused-cloud-hsm-clusters'), access: { kind: 'acl', action: 'viewkeystore' }, requestSchema: schemas.unusedCloudHsmClusters, needs: { ...READ, ...callsAwsKms(SHOWS_KEY_STORE), cloudHsm: ['DescribeClusters'] }, summary: 'CloudHSM clusters of an account and region that no CloudHSM key store uses' },
  { operation: 'CreateCloudHsmKey', method: 'POST', path: `${KEY_STORES}/{id}/create-aws-key`, handler: h('create-cloud-hsm-key'), access: { kind: 'acl', action: 'cloudhsmkeycreate' }, requestSchema: schemas.createCloudHsmKey, successStatus: 201, needs: changesKmsKey('CreateKey', 'CreateAlias', 'ScheduleKeyDeletion'), summary: 'Create a KMS key in a CloudHSM key store (an AWS key of kind cloudhsm)' },
  { operation: 'GetKeyStoreHealth', method: 'POST', path: `${KEY_STORES}/{id}/health`, handler: h('get-key-store-health'), access: { kind: 'public' }, needs: { ...READ, hsmAgent: true }, summary: 'Deep health check of a key store (unauthenticated, rate limited)' },

  // XKS credentials
  { operation: 'CreateKeyStoreCredential', method: 'POST', path: `${KEY_STORES}/{id}/credentials`, handler: h('create-key-store-credential'), access: { kind: 'acl', action: 'keystoreupdate' }, successStatus: 201, needs: { ...WRITE, secrets: { xks: 'write' }, ...callsAwsKms('UpdateCustomKeyStore') }, summary: 'Create an XKS credential (linked: AWS KMS gets it)' },
  { operation: 'ListKeyStoreCredentials', method: 'GET', path: `${KEY_STORES}/{id}/credentials`, handler: h('list-key-store-credentials'), access: { kind: 'acl', action: 'viewkeystore' }, querySchema: schemas.listCredentialsQuery, needs: READ, summary: 'List the XKS credentials of a key store' },
  { operation: 'GetKeyStoreCredential', method: 'GET', path: `${KEY_STORES}/{id}/credentials/{credentialId}`, handler: h('get-key-store-credential'), access: { kind: 'acl', action: 'viewkeystore' }, needs: READ, summary: 'Get an XKS credential (never its secret)' },
  { operation: 'DeleteKeyStoreCredential', method: 'DELETE', path: `${KEY_STORES}/{id}/credentials/{credentialId}`, handler: h('delete-key-store-credential'), access: { kind: 'acl', action: 'keystoreupdate' }, successStatus: 204, needs: { ...WRITE, secrets: { xks: 'delete' } }, summary: 'Delete an XKS credential' },
  { operation: 'RotateKeyStoreCredential', method: 'POST', path: `${KEY_STORES}/{id}/rotate-credential`, handler: h('rotate-key-store-credential'), access: { kind: 'acl', action: 'keystoreupdate' }, needs: { ...WRITE, secrets: { xks: 'write' }, ...callsAwsKms('UpdateCustomKeyStore', SHOWS_KEY_STORE) }, summary: 'Rotate the XKS credential (oldest deleted beyond max_credentials; linked: AWS KMS gets it)' },

  // Virtual keys
  { operation: 'CreateVirtualKey', method: 'POST', path: VIRTUAL_KEYS, handler: h('create-virtual-key'), access: { kind: 'admin' }, requestSchema: schemas.createVirtualKey, successStatus: 201, needs: WRITE, summary: 'Create a virtual key over an HSM source key' },
  { operation: 'ListVirtualKeys', method: 'GET', path: VIRTUAL_KEYS, handler: h('list-virtual-keys'), access: { kind: 'authenticated' }, querySchema: schemas.listVirtualKeysQuery, needs: READ, summary: 'List virtual keys' },
  { operation: 'GetVirtualKey', method: 'GET', path: `${VIRTUAL_KEYS}/{id}`, handler: h('get-virtual-key'), access: { kind: 'authenticated' }, needs: READ, summary: 'Get a virtual key' },
  { operation: 'UpdateVirtualKey', method: 'PATCH', path: `${VIRTUAL_KEYS}/{id}`, handler: h('update-virtual-key'), access: { kind: 'admin' }, requestSchema: schemas.updateVirtualKey, needs: WRITE, summary: 'Update a virtual key (deletable)' },
  { operation: 'DeleteVirtualKey', method: 'DELETE', path: `${VIRTUAL_KEYS}/{id}`, handler: h('delete-virtual-key'), access: { kind: 'admin' }, successStatus: 204, needs: WRITE, summary: 'Delete a virtual key' },
  { operation: 'ListVirtualKeyVersions', method: 'GET', path: `${VIRTUAL_KEYS}/{id}/versions`, handler: h('list-virtual-key-versions'), access: { kind: 'authenticated' }, querySchema: schemas.listVersionsQuery, needs: READ, summary: 'List the versions of a virtual key' },

  // HYOK keys (AWS keys in external key stores)
  { operation: 'CreateHyokKey', method: 'POST', path: '/v1/cckm/aws/create-hyok-key', handler: h('create-hyok-key'), access: { kind: 'acl', action: 'hyokkeycreate' }, requestSchema: schemas.createHyokKey, successStatus: 201, needs: LINKS_HYOK_KEY, summary: 'Create an HYOK key in an external key store (with aws_param on a linked store: its KMS key too)' },
  { operation: 'LinkHyokKey', method: 'POST', path: `${AWS_KEYS}/{id}/link`, handler: h('link-hyok-key'), access: { kind: 'acl', action: 'hyokkeylink' }, requestSchema: schemas.linkHyokKey, needs: LINKS_HYOK_KEY, summary: 'Link an unlinked HYOK key: create its KMS key in the linked key store' },
  { operation: 'ListAwsKeyVersions', method: 'GET', path: `${AWS_KEYS}/{id}/versions`, handler: h('list-aws-key-versions'), access: { kind: 'acl', action: 'viewhyokkey' }, querySchema: schemas.listVersionsQuery, needs: READ, summary: 'List the versions of an HYOK key' },
  { operation: 'BlockHyokKey', method: 'POST', path: `${AWS_KEYS}/{id}/block`, handler: h('block-hyok-key'), access: { kind: 'acl', action: 'hyokkeyblockunblock' }, needs: WRITE, summary: 'Block AWS KMS use of an HYOK key' },
  { operation: 'UnblockHyokKey', method: 'POST', path: `${AWS_KEYS}/{id}/unblock`, handler: h('unblock-hyok-key'), access: { kind: 'acl', action: 'hyokkeyblockunblock' }, needs: WRITE, summary: 'Unblock AWS KMS use of an HYOK key' },
  { operation: 'RotateHyokKey', method: 'POST', path: `${AWS_KEYS}/{id}/rotate`, handler: h('rotate-hyok-key'), access: { kind: 'acl', action: 'keyrotate' }, requestSchema: schemas.rotateHyokKey, needs: WRITE, summary: 'Rotate an HYOK key to a new source key (new version)' },

  // AWS keys of every kind (seeing one takes its kind's view action)
  { operation: 'ListAwsKeys', method: 'GET', path: AWS_KEYS, handler: h('list-aws-keys'), access: VIEW_AWS_KEY, querySchema: schemas.listAwsKeysQuery, needs: READ, summary: 'List AWS keys' },
  { operation: 'GetAwsKey', method: 'GET', path: `${AWS_KEYS}/{id}`, handler: h('get-aws-key'), access: VIEW_AWS_KEY, needs: READ, summary: 'Get an AWS key' },
  { operation: 'RefreshAwsKey', method: 'POST', path: `${AWS_KEYS}/{id}/refresh`, handler: h('refresh-aws-key'), access: VIEW_AWS_KEY, needs: changesKmsKey(), summary: 'Read an AWS key from AWS KMS again' },
  { operation: 'DeleteAwsKey', method: 'DELETE', path: `${AWS_KEYS}/{id}`, handler: h('delete-aws-key'), access: { kind: 'acl', action: 'keydelete', byKeyKind: { hyok: 'hyokkeydelete', cloudhsm: 'cloudhsmkeydelete' } }, successStatus: 204, needs: { ...WRITE, ...callsAwsKms(...READS_KMS_KEY) }, summary: 'Remove an AWS key from the key manager (not from AWS KMS; HYOK keys only once AWS KMS deleted theirs)' },
  { operation: 'EnableAwsKey', method: 'POST', path: `${AWS_KEYS}/{id}/enable`, handler: h('enable-aws-key'), access: { kind: 'acl', action: 'keyupdate' }, needs: changesKmsKey('EnableKey'), summary: 'Enable an AWS key (EnableKey)' },
  { operation: 'DisableAwsKey', method: 'POST', path: `${AWS_KEYS}/{id}/disable`, handler: h('disable-aws-key'), access: { kind: 'acl', action: 'keyupdate' }, needs: changesKmsKey('DisableKey'), summary: 'Disable an AWS key (DisableKey)' },
  { operation: 'ScheduleAwsKeyDeletion', method: 'POST', path: `${AWS_KEYS}/{id}/schedule-deletion`, handler: h('schedule-aws-key-deletion'), access: { kind: 'acl', action: 'keydelete', byKeyKind: { hyok: 'hyokkeydelete', cloudhsm: 'cloudhsmkeydelete' } }, requestSchema: schemas.scheduleAwsKeyDeletion, needs: changesKmsKey('ScheduleKeyDeletion'), summary: 'Schedule the deletion of an AWS key in AWS KMS (7-30 days, default 30)' },
  { operation: 'CancelAwsKeyDeletion', method: 'POST', path: `${AWS_KEYS}/{id}/cancel-deletion`, handler: h('cancel-aws-key-deletion'), access: { kind: 'acl', action: 'keycanceldelete' }, needs: changesKmsKey('CancelKeyDeletion'), summary: 'Cancel the scheduled deletion of an AWS key' },
  { operation: 'AddAwsKeyAlias', method: 'POST', path: `${AWS_KEYS}/{id}/add-alias`, handler: h('add-aws-key-alias'), access: { kind: 'acl', action: 'keyupdate' }, requestSchema: schemas.awsKeyAlias, needs: changesKmsKey('CreateAlias'), summary: 'Add an alias to an AWS key (CreateAlias)' },
  { operation: 'DeleteAwsKeyAlias', method: 'POST', path: `${AWS_KEYS}/{id}/delete-alias`, handler: h('delete-aws-key-alias'), access: { kind: 'acl', action: 'keyupdate' }, requestSchema: schemas.awsKeyAlias, needs: changesKmsKey('DeleteAlias'), summary: 'Delete an alias of an AWS key (DeleteAlias)' },
  { operation: 'UpdateAwsKeyDescription', method: 'POST', path: `${AWS_KEYS}/{id}/update-description`, handler: h('update-aws-key-description'), access: { kind: 'acl', action: 'keyupdate' }, requestSchema: schemas.updateAwsKeyDescription, needs: changesKmsKey('UpdateKeyDescription'), summary: 'Change the description of an AWS key (UpdateKeyDescription)' },
  { operation: 'AddAwsKeyTags', method: 'POST', path: `${AWS_KEYS}/{id}/add-tags`, handler: h('add-aws-key-tags'), access: { kind: 'acl', action: 'keyupdate' }, requestSchema: schemas.addAwsKeyTags, needs: changesKmsKey('TagResource'), summary: 'Add or change tags of an AWS key (TagResource)' },
  { operation: 'RemoveAwsKeyTags', method: 'POST', path: `${AWS_KEYS}/{id}/remove-tags`, handler: h('remove-aws-key-tags'), access: { kind: 'acl', action: 'keyupdate' }, requestSchema: schemas.removeAwsKeyTags, needs: changesKmsKey('UntagResource'), summary: 'Remove tags of an AWS key (UntagResource)' },
  { operation: 'UploadAwsKey', method: 'POST', path: '/v1/cckm/aws/upload-key', handler: h('upload-aws-key'), access: { kind: 'acl', action: 'keyupload' }, requestSchema: schemas.uploadAwsKey, successStatus: 201, needs: { ...changesKmsKey('CreateKey', 'CreateAlias', 'ScheduleKeyDeletion', 'GetParametersForImport', 'ImportKeyMaterial'), hsmAgent: true }, summary: 'Upload an HSM key to AWS KMS (BYOK): a KMS key with Origin EXTERNAL, the material wrapped inside the HSM and imported' },
  { operation: 'ImportAwsKeyMaterial', method: 'POST', path: `${AWS_KEYS}/{id}/import-material`, handler: h('import-aws-key-material'), access: { kind: 'acl', action: 'keymaterialimport' }, requestSchema: schemas.importAwsKeyMaterial, needs: { ...changesKmsKey('GetParametersForImport', 'ImportKeyMaterial'), hsmAgent: true }, summary: 'Import the material of an uploaded key again from its HSM key' },
  { operation: 'DeleteAwsKeyMaterial', method: 'POST', path: `${AWS_KEYS}/{id}/delete-material`, handler: h('delete-aws-key-material'), access: { kind: 'acl', action: 'keymaterialdelete' }, needs: changesKmsKey('DeleteImportedKeyMaterial'), summary: 'Delete the imported material of an uploaded key (DeleteImportedKeyMaterial)' },
  { operation: 'UpdateAwsKeyPolicy', method: 'POST', path: `${AWS_KEYS}/{id}/policy`, handler: h('update-aws-key-policy'), access: { kind: 'acl', action: 'keyupdate' }, requestSchema: schemas.updateAwsKeyPolicy, needs: changesKmsKey('PutKeyPolicy'), summary: 'Replace the key policy of an AWS key (PutKeyPolicy), from a document or the key_admins/key_users lists' },

  // Schedules: job configurations, their runs, and their assignment to key stores and HYOK keys
  { operation: 'CreateJobConfig', method: 'POST', path: JOB_CONFIGS, handler: h('create-job-config'), access: { kind: 'admin' }, requestSchema: schemas.createJobConfig, successStatus: 201, needs: SCHEDULES, summary: 'Create a job configuration and its schedule' },
  { operation: 'ListJobConfigs', method: 'GET', path: JOB_CONFIGS, handler: h('list-job-configs'), access: { kind: 'admin' }, querySchema: schemas.listJobConfigsQuery, needs: READ, summary: 'List job configurations' },
  { operation: 'GetJobConfig', method: 'GET', path: `${JOB_CONFIGS}/{id}`, handler: h('get-job-config'), access: { kind: 'admin' }, needs: READ, summary: 'Get a job configuration' },
  { operation: 'UpdateJobConfig', method: 'PATCH', path: `${JOB_CONFIGS}/{id}`, handler: h('update-job-config'), access: { kind: 'admin' }, requestSchema: schemas.updateJobConfig, needs: SCHEDULES, summary: 'Update a job configuration and its schedule' },
  { operation: 'DeleteJobConfig', method: 'DELETE', path: `${JOB_CONFIGS}/{id}`, handler: h('delete-job-config'), access: { kind: 'admin' }, successStatus: 204, needs: SCHEDULES, summary: 'Delete a job configuration and its schedule (refused while assigned)' },
  { operation: 'RunJobConfigNow', method: 'POST', path: `${JOB_CONFIGS}/{id}/run-now`, handler: h('run-job-config-now'), access: { kind: 'admin' }, successStatus: 201, needs: SCHEDULES, summary: 'Start a run of a job configuration now (in the background)' },
  { operation: 'ListJobRuns', method: 'GET', path: '/v1/scheduler/jobs', handler: h('list-job-runs'), access: { kind: 'admin' }, querySchema: schemas.listJobRunsQuery, needs: READ, summary: 'List job runs' },
  { operation: 'GetJobRun', method: 'GET', path: '/v1/scheduler/jobs/{id}', handler: h('get-job-run'), access: { kind: 'admin' }, needs: READ, summary: 'Get a job run with its per-target results' },
  { operation: 'EnableCredentialRotationJob', method: 'POST', path: `${KEY_STORES}/{id}/enable-credential-rotation-job`, handler: h('enable-credential-rotation-job'), access: { kind: 'acl', action: 'keystoreupdate' }, requestSchema: schemas.assignJobConfig, needs: { ...WRITE, ...callsAwsKms(SHOWS_KEY_STORE) }, summary: 'Assign a credential rotation job configuration to a linked key store' },
  { operation: 'DisableCredentialRotationJob', method: 'POST', path: `${KEY_STORES}/{id}/disable-credential-rotation-job`, handler: h('disable-credential-rotation-job'), access: { kind: 'acl', action: 'keystoreupdate' }, needs: { ...WRITE, ...callsAwsKms(SHOWS_KEY_STORE) }, summary: 'Unassign the credential rotation job configuration of a key store' },
  { operation: 'EnableAwsKeyRotationJob', method: 'POST', path: `${AWS_KEYS}/{id}/enable-rotation-job`, handler: h('enable-aws-key-rotation-job'), access: { kind: 'acl', action: 'keyrotate' }, requestSchema: schemas.assignJobConfig, needs: WRITE, summary: 'Assign a key rotation job configuration to an HYOK key' },
  { operation: 'DisableAwsKeyRotationJob', method: 'POST', path: `${AWS_KEYS}/{id}/disable-rotation-job`, handler: h('disable-aws-key-rotation-job'), access: { kind: 'acl', action: 'keyrotate' }, needs: WRITE, summary: 'Unassign the key rotation job configuration of an HYOK key' },
  // Synchronization jobs (contract/jobs.ts; README "Synchronization jobs")
  { operation: 'StartAwsKeySynchronization', method: 'POST', path: KEY_SYNC_JOBS, handler: h('start-aws-key-synchronization'), access: { kind: 'acl', action: 'keysynchronize' }, requestSchema: schemas.startSynchronizationJob, successStatus: 201, needs: { ...WRITE, startsJobs: ['AwsKeySynchronization'] }, summary: 'Start downloading the KMS keys of account containers\' regions into AWS keys' },
  { operation: 'ListAwsKeySynchronizations', method: 'GET', path: KEY_SYNC_JOBS, handler: h('list-aws-key-synchronizations'), access: { kind: 'acl', action: 'keysynchronize' }, querySchema: schemas.listSynchronizationJobsQuery, needs: READ, summary: 'List AWS key synchronization jobs' },
  { operation: 'GetAwsKeySynchronization', method: 'GET', path: `${KEY_SYNC_JOBS}/{id}`, handler: h('get-aws-key-synchronization'), access: { kind: 'acl', action: 'keysynchronize' }, needs: READ, summary: 'Get an AWS key synchronization job, its progress per account and region' },
  { operation: 'CancelAwsKeySynchronization', method: 'POST', path: `${KEY_SYNC_JOBS}/{id}/cancel`, handler: h('cancel-aws-key-synchronization'), access: { kind: 'acl', action: 'keysynchronize' }, needs: WRITE, summary: 'Cancel an AWS key synchronization job (it stops within one page)' },
  { operation: 'StartKeyStoreSynchronization', method: 'POST', path: STORE_SYNC_JOBS, handler: h('start-key-store-synchronization'), access: { kind: 'acl', action: 'keystorelink' }, requestSchema: schemas.startSynchronizationJob, successStatus: 201, needs: { ...WRITE, startsJobs: ['KeyStoreSynchronization'] }, summary: 'Refresh All: start synchronizing the custom key stores of account containers\' regions with AWS KMS' },
  { operation: 'ListKeyStoreSynchronizations', method: 'GET', path: STORE_SYNC_JOBS, handler: h('list-key-store-synchronizations'), access: { kind: 'acl', action: 'viewkeystore' }, querySchema: schemas.listSynchronizationJobsQuery, needs: READ, summary: 'List key store synchronization jobs' },
  { operation: 'GetKeyStoreSynchronization', method: 'GET', path: `${STORE_SYNC_JOBS}/{id}`, handler: h('get-key-store-synchronization'), access: { kind: 'acl', action: 'viewkeystore' }, needs: READ, summary: 'Get a key store synchronization job, its progress per account and region' },
  { operation: 'CancelKeyStoreSynchronization', method: 'POST', path: `${STORE_SYNC_JOBS}/{id}/cancel`, handler: h('cancel-key-store-synchronization'), access: { kind: 'acl', action: 'keystorelink' }, needs: WRITE, summary: 'Cancel a key store synchronization job (it stops within one page)' },
] as const satisfies readonly RouteDefinition[];

export const routes: readonly RouteDefinition[] = ROUTE_TABLE;

/** The operation names of the route table. */
export type Operation = (typeof ROUTE_TABLE)[number]['operation'];
type RouteRow<O extends Operation> = Extract<(typeof ROUTE_TABLE)[number], { readonly operation: O }>;
/** The body type of an operation's requests: its `requestSchema`'s (undefined when it has none). */
export type RequestBody<O extends Operation> = RouteRow<O> extends { readonly requestSchema: infer S extends RequestSchema } ? RequestOf<S> : undefined;
/** The query type of an operation's requests: its `querySchema`'s (any string parameters when it has none). */
export type RequestQuery<O extends Operation> = RouteRow<O> extends { readonly querySchema: infer S extends RequestSchema } ? RequestOf<S> : Readonly<Record<string, string | undefined>>;

/** Look a route up by operation name (used by handlers and tests). */
export function routeFor(operation: string): RouteDefinition {
  const route = routes.find((r) => r.operation === operation);
  if (!route) throw new Error(`No route named ${operation} in lambdas/contract/routes.ts`);
  return route;
}
