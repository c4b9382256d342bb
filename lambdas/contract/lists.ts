/**
 * Every list route's filters and sortable fields, declared once per resource. The query schemas
 * (schema-parts.ts `listQuery`) take their parameter names from here and the services filter and
 * sort with it (core/listing.ts `listPage`). Plain data.
 *
 * A filter matches a resource when the parameter is absent or empty, or equals the value at one
 * of its `fields` (dotted paths into the resource as the API shows it; default: the filter's own
 * name).
 */
export interface ListFilter {
  /** Where the value is read; a resource matches when any of them equals the filter. @default [the filter's name] */
  readonly fields?: readonly string[];
  /** `true`/`false` only (400 naming the parameter otherwise), compared with a boolean field. */
  readonly type?: 'boolean';
  /** Other spellings of a value, matched as the value they stand for. */
  readonly aliases?: Readonly<Record<string, string>>;
  /** Every resource of the list has this value (nothing to read). */
  readonly constant?: string;
  /** A field only linked resources have (AWS KMS-side): any value matches nothing until linking exists. */
  readonly linkedOnly?: true;
}

export interface ListDefinition {
  readonly filters: Readonly<Record<string, ListFilter>>;
  /** Fields `sort` accepts (`sort=name,-createdAt`). */
  readonly sortable: readonly string[];
}

const bool: ListFilter = { type: 'boolean' };
/** An account container filter: its name (`kms`) or its id. */
const kms: ListFilter = { fields: ['kms', 'kms_id'] };

const keyVersions: ListDefinition = {
  filters: { partition_id: {}, source_key_id: {}, partition_label: {} },
  sortable: ['createdAt', 'updatedAt', 'version', 'source_key_id', 'id'],
};

export const LISTS = {
  accountContainers: {
    filters: { id: {}, name: {}, account_id: {} },
    sortable: ['id', 'name', 'account_id', 'createdAt', 'updatedAt'],
  },
  hsmPartitions: {
    filters: { id: {}, name: {}, hsm_type: {}, token_label: {} },
    sortable: ['id', 'name', 'hsm_type', 'token_label', 'createdAt', 'updatedAt'],
  },
  hsmKeys: {
    filters: { id: {}, partition_id: {}, label: {}, object_id: {}, status: {}, kms_id: {} },
    sortable: ['id', 'label', 'partition_id', 'status', 'createdAt', 'updatedAt'],
  },
  keyStores: {
    filters: {
      id: {}, name: {}, kms, kms_id: {}, region: {}, cloud_name: {}, type: {},
      blocked: { ...bool, fields: ['local_hosted_params.blocked'] },
      // External stores show it in local_hosted_params; CloudHSM stores (always in AWS KMS) at the top.
      linked_state: { ...bool, fields: ['local_hosted_params.linked_state', 'linked_state'] },
      xks_proxy_connectivity: { fields: ['aws_param.xks_proxy_connectivity'] },
      connection_state: { fields: ['aws_param.connection_state'] },
      // The seeds spell Luna's tier both `hsm-luna` (responses) and `luna-hsm` (request docs).
      source_key_tier: { fields: ['local_hosted_params.source_key_tier'], aliases: { 'luna-hsm': 'hsm-luna' } },
      custom_key_store_type: { fields: ['aws_param.custom_key_store_type'], aliases: { CLOUD_HSM: 'AWS_CLOUDHSM' } },
    },
    sortable: ['name', 'createdAt', 'updatedAt', 'region', 'kms', 'kms_id', 'id'],
  },
  keyStoreCredentials: {
    filters: { access_key_id: {} },
    sortable: ['createdAt', 'updatedAt', 'version', 'access_key_id', 'id'],
  },
  virtualKeys: {
    filters: { id: {}, partition_id: {}, source_key_id: {}, partition_label: {}, deletable: bool },
    sortable: ['createdAt', 'updatedAt', 'version', 'partition_id', 'source_key_id', 'id'],
  },
  /** Versions of a virtual key, and of an HYOK key (its virtual key's versions). */
  virtualKeyVersions: keyVersions,
  /**
   * AWS keys (every kind). The service matches these with its own rules (core/keys/aws-key-views.ts:
   * AWS-side values, aliases lists); the names here are the query schema's.
   */
  awsKeys: {
    filters: {
      id: {}, keyid: {}, arn: {}, alias: {}, kms: {}, kms_id: {}, region: {}, origin: {}, job_config_id: {}, enabled: {},
      gone: {}, keystate: {}, keyusage: {}, key_material_origin: {}, key_source: {}, custom_key_store_id: {},
      blocked: {}, linked_state: {},
    },
    sortable: [],
  },
  jobConfigs: {
    filters: { id: {}, name: {}, operation: {}, disabled: bool },
    sortable: ['name', 'operation', 'createdAt', 'updatedAt', 'id'],
  },
  jobRuns: {
    filters: { job_config_id: {}, status: {}, operation: {}, trigger: {} },
    sortable: ['createdAt', 'updatedAt', 'started_at', 'finished_at', 'scheduled_time', 'status', 'job_config_name', 'id'],
  },
  /**
   * Synchronization jobs (AWS keys and key stores alike). The seeds spell the running status both
   * `in_progress` and `in progress`; `kms` (a name or id among the job's containers) is matched by
   * the job service, as the job shows a list of them.
   */
  synchronizationJobs: {
    filters: { id: {}, overall_status: { aliases: { 'in progress': 'in_progress' } }, kms: {} },
    sortable: ['createdAt', 'updatedAt', 'overall_status', 'id'],
  },
} as const satisfies Record<string, ListDefinition>;
