/**
 * POST /v1/cckm/aws/custom-key-stores/get-unused-cloudhsm-clusters: the CloudHSM clusters of an
 * account container's account in one region (CloudHSMv2 DescribeClusters through the container's
 * role) that no CloudHSM key store of AWS KMS there uses, i.e. the clusters a new CloudHSM key
 * store may be created on. AWS KMS's stores are read (not only the key manager's), so that a store
 * created outside the key manager counts too.
 */
import type { Access } from '../accounts/access';
import { resolveAccount } from '../key-references';
import type { AwsKms } from '../ports/aws-kms';
import type { CloudHsmCluster, CloudHsmClusters } from '../ports/cloudhsm-clusters';
import type { StateStore } from '../ports/state-store';
import { kmsLocation } from './aws-kms-links';
import { requireRegion } from './cloudhsm-key-store';
import type { UnusedCloudHsmClustersRequest as UnusedClustersRequest } from '../../contract/key-schemas';

/** POST .../get-unused-cloudhsm-clusters: the account container (name or id) and region. */
export type { UnusedClustersRequest };

/** The seeds' answer: the count, a status line, and the clusters as AWS returns them. */
export interface UnusedClusters {
  readonly total: number;
  readonly detailed_status: string;
  readonly resources: CloudHsmCluster[];
}

export interface CloudHsmClusterServiceDeps {
  readonly state: StateStore;
  readonly awsKms: AwsKms;
  readonly cloudHsm: CloudHsmClusters;
}

export class CloudHsmClusterService {
  constructor(private readonly deps: CloudHsmClusterServiceDeps) {}

  async unused(access: Access, request: UnusedClustersRequest): Promise<UnusedClusters> {
    const account = await resolveAccount(this.deps.state, access, request.kms, 'kms');
    requireRegion(account, request.region);
    const at = kmsLocation(account, request.region);
    const [clusters, stores] = await Promise.all([this.deps.cloudHsm.describeClusters(at), this.deps.awsKms.listCustomKeyStores(at)]);
    const used = new Set(stores.flatMap((s) => (s.type === 'AWS_CLOUDHSM' && s.cloudHsmClusterId ? [s.cloudHsmClusterId] : [])));
    const unused = clusters.filter((c) => !used.has(c.ClusterId));
    return { total: unused.length, detailed_status: unused.length > 0 ? 'Unused CloudHSM cluster(s) found' : 'No unused CloudHSM cluster found', resources: unused };
  }
}
