/**
 * The stand-in's record of one CloudHSM cluster, kept in the `cloudHsmClusters` collection of its
 * account and region. Field names follow Cluster and Hsm in @aws-sdk/client-cloudhsm-v2's models
 * (lower camel case); `toCluster` gives the wire shape. Dates are epoch seconds.
 *
 * A local cluster is a SoftHSM2 token (`tokenLabel`): its HSMs are records only (two, in two
 * availability zones, like the smallest cluster AWS KMS accepts), and every HSM of the cluster
 * holds the token's keys, as every HSM of a real cluster holds the cluster's keys. A cluster made
 * from a backup of another shares its token and its `backupLineage` (AWS KMS allows a key store to
 * move only between clusters of one lineage).
 */
import type { ScopedState } from '../state';

export const CLOUDHSM_CLUSTERS = 'cloudHsmClusters';

/** ClusterState in the SDK's enums. */
export type ClusterState =
  | 'CREATE_IN_PROGRESS' | 'UNINITIALIZED' | 'INITIALIZE_IN_PROGRESS' | 'INITIALIZED' | 'ACTIVE' | 'UPDATE_IN_PROGRESS'
  | 'MODIFY_IN_PROGRESS' | 'ROLLBACK_IN_PROGRESS' | 'DELETE_IN_PROGRESS' | 'DELETED' | 'DEGRADED';
export const CLUSTER_STATES: readonly ClusterState[] = [
  'CREATE_IN_PROGRESS', 'UNINITIALIZED', 'INITIALIZE_IN_PROGRESS', 'INITIALIZED', 'ACTIVE', 'UPDATE_IN_PROGRESS',
  'MODIFY_IN_PROGRESS', 'ROLLBACK_IN_PROGRESS', 'DELETE_IN_PROGRESS', 'DELETED', 'DEGRADED',
];

export type HsmState = 'CREATE_IN_PROGRESS' | 'ACTIVE' | 'DEGRADED' | 'DELETE_IN_PROGRESS' | 'DELETED';

export interface HsmRecord {
  readonly hsmId: string;
  readonly availabilityZone: string;
  readonly subnetId: string;
  readonly eniId: string;
  readonly eniIp: string;
  state: HsmState;
}

export interface CloudHsmClusterRecord {
  readonly clusterId: string;
  readonly createTimestamp: number;
  state: ClusterState;
  readonly vpcId: string;
  readonly securityGroup: string;
  readonly hsmType: string;
  /** Availability zone → subnet id. */
  readonly subnetMapping: Record<string, string>;
  hsms: HsmRecord[];
  readonly sourceBackupId?: string;
  /** The cluster certificate (PEM), issued by the trust anchor when the cluster was initialized. */
  readonly clusterCertificate: string;
  /** The issuing CA's self-signed certificate (PEM): what CreateCustomKeyStore's TrustAnchorCertificate must be. */
  readonly trustAnchorCertificate: string;
  /** Clusters made from one another's backups share it (and their keys). */
  readonly backupLineage: string;
  /** The SoftHSM2 token that holds the cluster's keys and its crypto users (kmsuser = the token's user). */
  readonly tokenLabel: string;
  tags: { Key: string; Value: string }[];
}

export const clustersOf = (state: ScopedState) => state.collection<CloudHsmClusterRecord>(CLOUDHSM_CLUSTERS);

/** DescribeClusters' Cluster. */
export function toCluster(record: CloudHsmClusterRecord): Record<string, unknown> {
  return {
    BackupPolicy: 'DEFAULT',
    BackupRetentionPolicy: { Type: 'DAYS', Value: '90' },
    ClusterId: record.clusterId,
    CreateTimestamp: record.createTimestamp,
    Hsms: record.hsms.map((hsm) => ({
      AvailabilityZone: hsm.availabilityZone,
      ClusterId: record.clusterId,
      SubnetId: hsm.subnetId,
      EniId: hsm.eniId,
      EniIp: hsm.eniIp,
      HsmId: hsm.hsmId,
      State: hsm.state,
      StateMessage: hsm.state === 'ACTIVE' ? 'HSM created.' : undefined,
    })),
    HsmType: record.hsmType,
    SecurityGroup: record.securityGroup,
    SourceBackupId: record.sourceBackupId,
    State: record.state,
    StateMessage: record.state === 'ACTIVE' ? 'Cluster is active.' : undefined,
    SubnetMapping: record.subnetMapping,
    VpcId: record.vpcId,
    Certificates: { ClusterCertificate: record.clusterCertificate },
    TagList: record.tags,
  };
}

/** The HSMs that serve requests. */
export const activeHsms = (record: CloudHsmClusterRecord): HsmRecord[] => record.hsms.filter((hsm) => hsm.state === 'ACTIVE');
