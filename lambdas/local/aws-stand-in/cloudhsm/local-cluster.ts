/**
 * Local CloudHSM clusters: what a customer does once in AWS (create a cluster with HSMs in two
 * availability zones, initialize it with a certificate signed by their own CA, activate it and
 * create the `kmsuser` crypto user), done with openssl and softhsm2-util.
 *
 * `<dir>/<clusterId>/` keeps the files a customer keeps: `customerCA.crt` (the trust anchor),
 * `customerCA.key`, `cluster.crt`, and `kmsuser-password` (mode 0600; AWS KMS gets it from the
 * customer in CreateCustomKeyStore). The token's user PIN is that password.
 *
 *   const { clusterId, trustAnchorCertificatePath, kmsuserPassword } =
 *     await ensureLocalCloudHsmCluster(aws.state, { accountId, region, dir: '.local/cloudhsm' });
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createSoftHsmToken } from '../../softhsm-token';
import type { StandInState } from '../state';
import { clustersOf, type CloudHsmClusterRecord } from './cluster-record';
import { clusterHsms } from './cluster-hsm';

const execFileAsync = promisify(execFile);

export interface LocalClusterOptions {
  readonly accountId: string;
  readonly region: string;
  /** Folder for the clusters' files. */
  readonly dir: string;
  /** Makes the new cluster from a backup of this one: same token, lineage and certificates. */
  readonly fromBackupOf?: string;
  /** Availability zone of each HSM. @default two zones of the region (`<region>a`, `<region>b`) */
  readonly hsmZones?: readonly string[];
}

export interface LocalCluster {
  readonly clusterId: string;
  readonly trustAnchorCertificatePath: string;
  /** The kmsuser crypto user's password (CreateCustomKeyStore's KeyStorePassword). */
  readonly kmsuserPassword: string;
}

const MARKER_FILE = 'local-cluster-id';

/**
 * The folder's cluster, created on first call. A cluster whose record, files or token went
 * missing is made again (a new id), so the answer always names a cluster that works.
 */
export async function ensureLocalCloudHsmCluster(state: StandInState, options: LocalClusterOptions): Promise<LocalCluster> {
  const markerPath = join(options.dir, MARKER_FILE);
  if (existsSync(markerPath)) {
    const clusterId = readFileSync(markerPath, 'utf8').trim();
    const existing = readLocalCluster(options.dir, clusterId);
    const record = clustersOf(state.scope(options.accountId, options.region)).get(clusterId);
    if (existing && record) {
      const login = await clusterHsms().login({ customKeyStoreId: 'local-cluster-check', tokenLabel: record.tokenLabel, password: existing.kmsuserPassword });
      if (login.ready) return existing;
    }
  }
  const created = await createLocalCloudHsmCluster(state, options);
  mkdirSync(options.dir, { recursive: true });
  writeFileSync(markerPath, `${created.clusterId}\n`);
  return created;
}

/** A new ACTIVE cluster with its own token (or, `fromBackupOf`, another cluster's). */
export async function createLocalCloudHsmCluster(state: StandInState, options: LocalClusterOptions): Promise<LocalCluster> {
  const clusters = clustersOf(state.scope(options.accountId, options.region));
  const clusterId = awsStyleId('cluster');
  const clusterDir = join(options.dir, clusterId);
  mkdirSync(clusterDir, { recursive: true, mode: 0o700 });
  const source = options.fromBackupOf ? clusters.get(options.fromBackupOf) : undefined;
  if (options.fromBackupOf && !source) throw new Error(`no cluster ${options.fromBackupOf} in ${options.accountId}/${options.region}`);

  let kmsuserPassword: string;
  let certificates: { trustAnchor: string; clusterCertificate: string };
  if (source) {
    // A restored backup holds the same users, keys and certificates as its source.
    const sourceFiles = readLocalCluster(options.dir, source.clusterId);
    if (!sourceFiles) throw new Error(`the files of cluster ${source.clusterId} are missing from ${options.dir}`);
    kmsuserPassword = sourceFiles.kmsuserPassword;
    certificates = { trustAnchor: source.trustAnchorCertificate, clusterCertificate: source.clusterCertificate };
  } else {
    kmsuserPassword = randomBytes(12).toString('base64url');
    certificates = await issueClusterCertificates(clusterDir, clusterId);
    await createSoftHsmToken({ label: tokenLabelFor(clusterId), pin: kmsuserPassword, soPin: randomBytes(16).toString('hex') });
  }
  writeFileSync(join(clusterDir, 'customerCA.crt'), certificates.trustAnchor);
  writeFileSync(join(clusterDir, 'cluster.crt'), certificates.clusterCertificate);
  writeFileSync(join(clusterDir, 'kmsuser-password'), `${kmsuserPassword}\n`, { mode: 0o600 });
  chmodSync(join(clusterDir, 'kmsuser-password'), 0o600);

  const zones = options.hsmZones ?? [`${options.region}a`, `${options.region}b`];
  const subnetMapping: Record<string, string> = {};
  for (const zone of zones) subnetMapping[zone] ??= `subnet-${randomBytes(8).toString('hex').slice(0, 17)}`;
  const record: CloudHsmClusterRecord = {
    clusterId,
    createTimestamp: Math.floor(Date.now() / 1000),
    state: 'ACTIVE',
    vpcId: source?.vpcId ?? `vpc-${randomBytes(8).toString('hex').slice(0, 17)}`,
    securityGroup: `sg-${randomBytes(8).toString('hex').slice(0, 17)}`,
    hsmType: 'hsm1.medium',
    subnetMapping,
    hsms: zones.map((zone, index) => ({
      hsmId: awsStyleId('hsm'),
      availabilityZone: zone,
      subnetId: subnetMapping[zone],
      eniId: `eni-${randomBytes(8).toString('hex').slice(0, 17)}`,
      eniIp: `10.0.${index}.${10 + index}`,
      state: 'ACTIVE',
    })),
    sourceBackupId: source ? awsStyleId('backup') : undefined,
    clusterCertificate: certificates.clusterCertificate,
    trustAnchorCertificate: certificates.trustAnchor,
    backupLineage: source?.backupLineage ?? clusterId,
    tokenLabel: source?.tokenLabel ?? tokenLabelFor(clusterId),
    tags: [],
  };
  clusters.put(clusterId, record);
  return { clusterId, trustAnchorCertificatePath: join(clusterDir, 'customerCA.crt'), kmsuserPassword };
}

function readLocalCluster(dir: string, clusterId: string): LocalCluster | undefined {
  const clusterDir = join(dir, clusterId);
  const trustAnchorCertificatePath = join(clusterDir, 'customerCA.crt');
  const passwordPath = join(clusterDir, 'kmsuser-password');
  if (!existsSync(trustAnchorCertificatePath) || !existsSync(passwordPath)) return undefined;
  return { clusterId, trustAnchorCertificatePath, kmsuserPassword: readFileSync(passwordPath, 'utf8').trim() };
}

/** SoftHSM2 token labels have at most 32 characters; `chsm-` + the cluster id fits. */
const tokenLabelFor = (clusterId: string): string => `chsm-${clusterId}`;

/** Ids as CloudHSM makes them: a prefix and 11 characters of base32 (`cluster-igklspoyj5v`). */
function awsStyleId(prefix: string): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  return `${prefix}-${[...randomBytes(11)].map((byte) => alphabet[byte % 32]).join('')}`;
}

/**
 * The customer's self-signed CA (the trust anchor) and the cluster certificate it signs over the
 * cluster's CSR, as InitializeCluster takes them.
 */
async function issueClusterCertificates(dir: string, clusterId: string): Promise<{ trustAnchor: string; clusterCertificate: string }> {
  const caKey = join(dir, 'customerCA.key');
  const caCert = join(dir, 'customerCA.crt');
  const clusterKey = join(dir, 'cluster.key');
  const csr = join(dir, 'cluster.csr');
  const clusterCert = join(dir, 'cluster.crt');
  const openssl = (args: string[]) => execFileAsync('openssl', args, { env: process.env });
  await openssl([
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', caKey, '-out', caCert, '-days', '3652',
    '-subj', `/CN=Local CloudHSM customer CA for ${clusterId}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  await openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', clusterKey, '-out', csr, '-subj', `/CN=${clusterId}/O=Local CloudHSM`]);
  await openssl(['x509', '-req', '-in', csr, '-CA', caCert, '-CAkey', caKey, '-CAcreateserial', '-out', clusterCert, '-days', '3652']);
  chmodSync(caKey, 0o600);
  chmodSync(clusterKey, 0o600);
  return { trustAnchor: readFileSync(caCert, 'utf8'), clusterCertificate: readFileSync(clusterCert, 'utf8') };
}
