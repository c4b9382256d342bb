/**
 * The deployment's parameters: one typed interface, read from `cdk.json` context and overridable
 * with `npx cdk synth|deploy -c name=value`, validated once, at synth time, with messages that say
 * which parameter to set and how.
 *
 * Lists are given as JSON arrays in cdk.json or comma-separated on the command line
 * (`-c privateSubnetIds=subnet-a,subnet-b`); numbers and booleans as their text.
 */
import type { Node } from 'constructs';
import { GROUPS } from '../lambdas/contract/env';
import { HSM_TYPES, type HsmType } from '../lambdas/contract/hsm';

/** How AWS KMS reaches the XKS proxy (the `XksProxyConnectivity` of the external key store). */
export type XksConnectivity = 'VPC_ENDPOINT_SERVICE' | 'PUBLIC_ENDPOINT';
export const XKS_CONNECTIVITIES: readonly XksConnectivity[] = ['VPC_ENDPOINT_SERVICE', 'PUBLIC_ENDPOINT'];

export type LambdaArchitecture = 'x86_64' | 'arm64';

/** TCP ports the proxy and the HSM agent open to the HSM, per HSM type. */
export interface PortRange {
  readonly from: number;
  readonly to: number;
}

/**
 * Ports of each vendor's client protocol: Luna NTLS listens on 1792; the CloudHSM client SDK 5
 * talks to every HSM of the cluster on 2223–2225. SoftHSM2 is a library inside the container.
 */
export const HSM_PORTS: Readonly<Record<HsmType, PortRange | undefined>> = {
  luna: { from: 1792, to: 1792 },
  cloudhsm: { from: 2223, to: 2225 },
  softhsm: undefined,
};

export interface ProvisionedConcurrencyParameters {
  /** Provisioned concurrent executions kept warm at all times. @default 2 */
  readonly min: number;
  /** Upper bound Application Auto Scaling may raise provisioned concurrency to. @default 20 */
  readonly max: number;
  /** Target `ProvisionedConcurrencyUtilization` (0.1–0.9) that auto scaling tracks. @default 0.7 */
  readonly targetUtilization: number;
}

export interface KeyManagerParameters {
  /**
   * The HSM family the XKS proxy and HSM agent talk to. Selects the vendor PKCS#11 client built
   * into the container image (Docker build arg `HSM_CLIENT`, see lambdas/xks-proxy/Dockerfile) and
   * the security-group ports (`HSM_PORTS`). `softhsm` keeps tokens inside each container: for a
   * smoke test of the deployment only.
   * @default 'softhsm'
   */
  readonly hsmType: HsmType;
  /**
   * Extra Docker build args for the vendor client, e.g. `{ "LUNA_CLIENT_DIR": "vendor/luna" }` or
   * `{ "CLOUDHSM_PKCS11_RPM": "vendor/cloudhsm/cloudhsm-pkcs11-latest.amzn2023.x86_64.rpm",
   * "CLOUDHSM_HSM_IP": "10.0.1.10" }`. Documented at the top of the Dockerfile.
   * @default {}
   */
  readonly hsmClientBuildArgs: Readonly<Record<string, string>>;
  /**
   * CIDR blocks where the HSMs listen (CloudHSM ENIs, an on-premises Luna behind a VPN, Luna Cloud
   * HSM through NAT). The functions' security group allows egress to them on `HSM_PORTS[hsmType]`.
   * @default - the VPC's CIDR block
   */
  readonly hsmCidrs?: readonly string[];
  /** Architecture of the proxy / HSM agent container image (the vendor client must exist for it). @default 'x86_64' */
  readonly proxyArchitecture: LambdaArchitecture;
  /** Architecture of the management API functions. @default 'arm64' */
  readonly managementArchitecture: LambdaArchitecture;

  /** AWS region to deploy to. @default - CDK_DEFAULT_REGION, else the `region` in cdk.json */
  readonly region: string;
  /** AWS account to deploy to. @default - CDK_DEFAULT_ACCOUNT (unset offline: an environment-agnostic account) */
  readonly account?: string;
  /** Availability zones of the VPC (created or imported); no look-up is made, so synth works offline. */
  readonly availabilityZones: readonly string[];
  /** Use this existing VPC instead of creating one (requires `privateSubnetIds`). @default - a VPC is created */
  readonly vpcId?: string;
  /** CIDR block of the existing VPC (for the HSM egress default). Required with `vpcId` unless `hsmCidrs` is set. */
  readonly vpcCidr?: string;
  /** Private subnets of the existing VPC, one per availability zone, in the order of `availabilityZones`. */
  readonly privateSubnetIds?: readonly string[];
  /** Public subnets of the existing VPC (only for `PUBLIC_ENDPOINT`), in the order of `availabilityZones`. */
  readonly publicSubnetIds?: readonly string[];
  /** CIDR of the VPC that is created. @default '10.40.0.0/16' */
  readonly newVpcCidr: string;
  /**
   * NAT gateways of the created VPC. 0 keeps the private subnets isolated (DynamoDB and Secrets
   * Manager are reached through VPC endpoints); set 1+ when the HSM is outside AWS (Luna Cloud HSM).
   * @default 0
   */
  readonly natGateways: number;

  /** @default 'VPC_ENDPOINT_SERVICE' */
  readonly xksConnectivity: XksConnectivity;
  /** DNS name of the XKS proxy (the host of `xks_proxy_uri_endpoint`), e.g. `xks.example.com`. */
  readonly proxyDomainName: string;
  /** ACM certificate for `proxyDomainName`. @default - one is created, validated through `hostedZoneId`, else by a DNS record you add */
  readonly certificateArn?: string;
  /** Public Route 53 hosted zone of `proxyDomainName` (validates the created certificate; with PUBLIC_ENDPOINT, gets an alias record). */
  readonly hostedZoneId?: string;
  /** Name of `hostedZoneId`'s zone, e.g. `example.com`. Required with `hostedZoneId`. */
  readonly hostedZoneName?: string;
  /** Private DNS name of the VPC endpoint service (VPC_ENDPOINT_SERVICE). @default - `proxyDomainName` */
  readonly endpointServicePrivateDnsName?: string;
  /** S3 bucket holding the CA bundle (PEM) of the ALB's mutual-TLS trust store. @default - no mTLS at the ALB */
  readonly mtlsTrustStoreBucket?: string;
  /** Object key of the CA bundle in `mtlsTrustStoreBucket`. Required with it. */
  readonly mtlsTrustStoreKey?: string;
  readonly provisionedConcurrency: ProvisionedConcurrencyParameters;

  /** Use this Cognito user pool instead of creating one (requires `userPoolClientId`). @default - a pool is created */
  readonly userPoolId?: string;
  /** App client of `userPoolId` whose tokens the API accepts. */
  readonly userPoolClientId?: string;
  /** E-mail of the first administrator, created in the new pool's `cckm-admins` group (Cognito mails a temporary password). @default - none */
  readonly adminEmail?: string;
  /**
   * Minutes a new user pool's access (and ID) tokens last, 5 to 1440. Removing someone from
   * `cckm-admins` takes effect within this. Not applied to an existing pool (`userPoolId`).
   * @default 15
   */
  readonly accessTokenValidityMinutes: number;

  /**
   * An AWS WAF web ACL with a rate-based rule on the management API's stage and, for
   * `PUBLIC_ENDPOINT`, on the XKS proxy's internet-facing ALB (billed per ACL, rule and request;
   * see the README's cost table). `-c waf=false` leaves both without one.
   * @default true
   */
  readonly waf: boolean;
  /** Requests per source IP address in any 5-minute window before the API's web ACL blocks it (10 to 2e9). @default 3000 */
  readonly wafApiRateLimit: number;
  /**
   * Requests per source IP address in any 5-minute window before the XKS ALB's web ACL blocks it.
   * AWS KMS calls from few addresses at up to 1,800 requests/s per key store, so the default sits
   * above that (540,000 per 5 minutes) and only stops floods from elsewhere.
   * @default 1000000
   */
  readonly wafXksRateLimit: number;
}

/** Defaults, applied under whatever cdk.json and `-c` give. */
export const PARAMETER_DEFAULTS = {
  hsmType: 'softhsm',
  hsmClientBuildArgs: {},
  proxyArchitecture: 'x86_64',
  managementArchitecture: 'arm64',
  newVpcCidr: '10.40.0.0/16',
  natGateways: 0,
  xksConnectivity: 'VPC_ENDPOINT_SERVICE',
  provisionedConcurrency: { min: 2, max: 20, targetUtilization: 0.7 },
  accessTokenValidityMinutes: 15,
  waf: true,
  wafApiRateLimit: 3000,
  wafXksRateLimit: 1_000_000,
} as const satisfies Partial<KeyManagerParameters>;

/** Thrown for an invalid parameter; the message names the parameter and how to fix it. */
export class ParameterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ParameterError';
  }
}

const how = (name: string, example: string): string =>
  `Set it in cdk.json "context" or with \`-c ${name}=${example}\`.`;

/** Reads the parameters from the app's context (`cdk.json` + `-c`) and the CDK_DEFAULT_* environment. */
export function parametersFromContext(node: Node, env: NodeJS.ProcessEnv = process.env): KeyManagerParameters {
  const text = (name: string): string | undefined => {
    const value: unknown = node.tryGetContext(name);
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value !== 'string') throw new ParameterError(`Parameter ${name} must be a string, got ${JSON.stringify(value)}. ${how(name, '...')}`);
    return value;
  };
  const list = (name: string): string[] | undefined => {
    const value: unknown = node.tryGetContext(name);
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value === 'string') return value.trim().startsWith('[') ? jsonList(name, value) : value.split(',').map((s) => s.trim()).filter(Boolean);
    if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
    throw new ParameterError(`Parameter ${name} must be a list of strings (JSON array in cdk.json, comma-separated with -c). Got ${JSON.stringify(value)}.`);
  };
  const num = (name: string, fallback: number): number => {
    const value: unknown = node.tryGetContext(name);
    if (value === undefined || value === null || value === '') return fallback;
    const n = typeof value === 'number' ? value : Number(value);
    if (!Number.isFinite(n)) throw new ParameterError(`Parameter ${name} must be a number, got ${JSON.stringify(value)}. ${how(name, String(fallback))}`);
    return n;
  };
  const record = (name: string): Record<string, string> => {
    const value: unknown = node.tryGetContext(name);
    if (value === undefined || value === null || value === '') return {};
    const parsed: unknown = typeof value === 'string' ? parseJson(name, value) : value;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || !Object.values(parsed).every((v) => typeof v === 'string')) {
      throw new ParameterError(`Parameter ${name} must be an object of strings, e.g. {"LUNA_CLIENT_DIR":"vendor/luna"}. Got ${JSON.stringify(value)}.`);
    }
    return parsed as Record<string, string>;
  };
  const flag = (name: string, fallback: boolean): boolean => {
    const value: unknown = node.tryGetContext(name);
    if (value === undefined || value === null || value === '') return fallback;
    if (value === true || value === 'true') return true;
    if (value === false || value === 'false') return false;
    throw new ParameterError(`Parameter ${name} must be true or false, got ${JSON.stringify(value)}. ${how(name, String(!fallback))}`);
  };
  const oneOf = <T extends string>(name: string, allowed: readonly T[], fallback: T): T => {
    const value = text(name) ?? fallback;
    if (!(allowed as readonly string[]).includes(value)) {
      throw new ParameterError(`Parameter ${name} must be one of ${allowed.join(', ')}; got "${value}". ${how(name, allowed[0] ?? '')}`);
    }
    return value as T;
  };

  const region = env.CDK_DEFAULT_REGION ?? text('region');
  if (!region) throw new ParameterError(`No region: set CDK_DEFAULT_REGION (an AWS profile) or the "region" parameter. ${how('region', 'eu-west-1')}`);
  const d = PARAMETER_DEFAULTS;
  const parameters: KeyManagerParameters = {
    hsmType: oneOf('hsmType', HSM_TYPES, d.hsmType),
    hsmClientBuildArgs: record('hsmClientBuildArgs'),
    hsmCidrs: list('hsmCidrs'),
    proxyArchitecture: oneOf<LambdaArchitecture>('proxyArchitecture', ['x86_64', 'arm64'], d.proxyArchitecture),
    managementArchitecture: oneOf<LambdaArchitecture>('managementArchitecture', ['x86_64', 'arm64'], d.managementArchitecture),
    region,
    account: env.CDK_DEFAULT_ACCOUNT ?? text('account'),
    availabilityZones: list('availabilityZones') ?? [],
    vpcId: text('vpcId'),
    vpcCidr: text('vpcCidr'),
    privateSubnetIds: list('privateSubnetIds'),
    publicSubnetIds: list('publicSubnetIds'),
    newVpcCidr: text('newVpcCidr') ?? d.newVpcCidr,
    natGateways: num('natGateways', d.natGateways),
    xksConnectivity: oneOf('xksConnectivity', XKS_CONNECTIVITIES, d.xksConnectivity),
    proxyDomainName: text('proxyDomainName') ?? '',
    certificateArn: text('certificateArn'),
    hostedZoneId: text('hostedZoneId'),
    hostedZoneName: text('hostedZoneName'),
    endpointServicePrivateDnsName: text('endpointServicePrivateDnsName'),
    mtlsTrustStoreBucket: text('mtlsTrustStoreBucket'),
    mtlsTrustStoreKey: text('mtlsTrustStoreKey'),
    provisionedConcurrency: {
      min: num('provisionedConcurrencyMin', d.provisionedConcurrency.min),
      max: num('provisionedConcurrencyMax', d.provisionedConcurrency.max),
      targetUtilization: num('provisionedConcurrencyTargetUtilization', d.provisionedConcurrency.targetUtilization),
    },
    userPoolId: text('userPoolId'),
    userPoolClientId: text('userPoolClientId'),
    adminEmail: text('adminEmail'),
    accessTokenValidityMinutes: num('accessTokenValidityMinutes', d.accessTokenValidityMinutes),
    waf: flag('waf', d.waf),
    wafApiRateLimit: num('wafApiRateLimit', d.wafApiRateLimit),
    wafXksRateLimit: num('wafXksRateLimit', d.wafXksRateLimit),
  };
  validateParameters(parameters);
  return parameters;
}

const DNS_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d|[12]\d|3[0-2])$/;

/** Checks the parameters together; throws a ParameterError naming the first problem and its fix. */
export function validateParameters(p: KeyManagerParameters): void {
  const fail = (message: string): never => {
    throw new ParameterError(message);
  };
  if (p.availabilityZones.length < 2) {
    fail(`Parameter availabilityZones needs at least two zones of ${p.region} (load balancers span two). ${how('availabilityZones', `${p.region}a,${p.region}b`)}`);
  }
  const foreignZone = p.availabilityZones.find((az) => !/^\$\{Token/.test(p.region) && !az.startsWith(p.region));
  if (foreignZone) fail(`Availability zone ${foreignZone} is not in region ${p.region}. Set availabilityZones to zones of ${p.region}.`);

  if (p.hsmType === 'cloudhsm' && !p.hsmClientBuildArgs.CLOUDHSM_HSM_IPS) {
    fail(`hsmType cloudhsm needs the HSMs' IP addresses for the image's CloudHSM client: ${how('hsmClientBuildArgs', '\'{"CLOUDHSM_HSM_IPS":"10.40.8.10"}\'')} (see lambdas/xks-proxy/Dockerfile).`);
  }
  if ('HSM_CLIENT' in p.hsmClientBuildArgs) fail(`hsmClientBuildArgs must not set HSM_CLIENT; set the hsmType parameter instead.`);

  if (p.vpcId) {
    if (!/^vpc-[0-9a-f]{8,17}$/.test(p.vpcId)) fail(`Parameter vpcId "${p.vpcId}" is not a VPC id (vpc-0123456789abcdef0).`);
    if (!p.privateSubnetIds?.length) fail(`Parameter vpcId needs privateSubnetIds: the private subnets (one per availability zone) the proxy runs in. ${how('privateSubnetIds', 'subnet-aaa,subnet-bbb')}`);
    if (p.privateSubnetIds && p.privateSubnetIds.length !== p.availabilityZones.length) {
      fail(`privateSubnetIds has ${p.privateSubnetIds.length} subnets but availabilityZones has ${p.availabilityZones.length}; give one private subnet per zone, in the same order.`);
    }
    if (p.xksConnectivity === 'PUBLIC_ENDPOINT' && p.publicSubnetIds?.length !== p.availabilityZones.length) {
      fail(`xksConnectivity PUBLIC_ENDPOINT with an existing VPC needs publicSubnetIds (one per availability zone) for the internet-facing load balancer. ${how('publicSubnetIds', 'subnet-ccc,subnet-ddd')}`);
    }
    if (!p.vpcCidr && !p.hsmCidrs?.length && p.hsmType !== 'softhsm') {
      fail(`With an existing VPC, set vpcCidr (the VPC's CIDR block) or hsmCidrs (where the HSMs listen) so that the HSM security-group rule has a destination.`);
    }
    for (const subnet of [...(p.privateSubnetIds ?? []), ...(p.publicSubnetIds ?? [])]) {
      if (!/^subnet-[0-9a-f]{8,17}$/.test(subnet)) fail(`"${subnet}" is not a subnet id (subnet-0123456789abcdef0).`);
    }
  } else {
    for (const name of ['privateSubnetIds', 'publicSubnetIds'] as const) {
      if (p[name]?.length) fail(`Parameter ${name} is only used with vpcId (an existing VPC). Set vpcId too, or remove ${name} to create a VPC.`);
    }
    if (!CIDR.test(p.newVpcCidr)) fail(`Parameter newVpcCidr "${p.newVpcCidr}" is not a CIDR block (10.40.0.0/16).`);
    if (!Number.isInteger(p.natGateways) || p.natGateways < 0 || p.natGateways > p.availabilityZones.length) {
      fail(`Parameter natGateways must be an integer from 0 to ${p.availabilityZones.length} (one per availability zone at most); got ${p.natGateways}.`);
    }
  }
  for (const cidr of [...(p.hsmCidrs ?? []), ...(p.vpcCidr ? [p.vpcCidr] : [])]) {
    if (!CIDR.test(cidr)) fail(`"${cidr}" is not a CIDR block (e.g. 10.0.0.0/16). Check hsmCidrs and vpcCidr.`);
  }

  if (!DNS_NAME.test(p.proxyDomainName)) {
    fail(`Parameter proxyDomainName must be the XKS proxy's DNS name in lower case (AWS KMS calls https://<proxyDomainName>); got "${p.proxyDomainName}". ${how('proxyDomainName', 'xks.example.com')}`);
  }
  if (p.endpointServicePrivateDnsName !== undefined && !DNS_NAME.test(p.endpointServicePrivateDnsName)) {
    fail(`Parameter endpointServicePrivateDnsName "${p.endpointServicePrivateDnsName}" is not a DNS name.`);
  }
  if (p.certificateArn !== undefined && !/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]+$/.test(p.certificateArn)) {
    fail(`Parameter certificateArn "${p.certificateArn}" is not an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>).`);
  }
  if ((p.hostedZoneId === undefined) !== (p.hostedZoneName === undefined)) {
    fail(`Parameters hostedZoneId and hostedZoneName go together (the zone's id and its name, e.g. Z0123456789ABC and example.com).`);
  }
  if (p.hostedZoneName && !(p.proxyDomainName === p.hostedZoneName || p.proxyDomainName.endsWith(`.${p.hostedZoneName}`))) {
    fail(`proxyDomainName ${p.proxyDomainName} is not inside hostedZoneName ${p.hostedZoneName}.`);
  }
  if ((p.mtlsTrustStoreBucket === undefined) !== (p.mtlsTrustStoreKey === undefined)) {
    fail(`Parameters mtlsTrustStoreBucket and mtlsTrustStoreKey go together: the S3 bucket and object key of the CA bundle (PEM) the ALB verifies client certificates against.`);
  }

  const pc = p.provisionedConcurrency;
  if (!Number.isInteger(pc.min) || pc.min < 1) fail(`Parameter provisionedConcurrencyMin must be an integer ≥ 1 (warm proxy instances); got ${pc.min}.`);
  if (!Number.isInteger(pc.max) || pc.max < pc.min) fail(`Parameter provisionedConcurrencyMax must be an integer ≥ provisionedConcurrencyMin (${pc.min}); got ${pc.max}.`);
  if (!(pc.targetUtilization >= 0.1 && pc.targetUtilization <= 0.9)) {
    fail(`Parameter provisionedConcurrencyTargetUtilization must be between 0.1 and 0.9; got ${pc.targetUtilization}.`);
  }

  if (p.userPoolId !== undefined) {
    if (!/^[\w-]+_[0-9a-zA-Z]+$/.test(p.userPoolId)) fail(`Parameter userPoolId "${p.userPoolId}" is not a Cognito user pool id (<region>_<id>).`);
    if (!p.userPoolClientId) fail(`Parameter userPoolId needs userPoolClientId: the app client whose tokens the API accepts.`);
    if (p.adminEmail) fail(`Parameter adminEmail only applies to a user pool this stack creates; add the admin to the "${GROUPS.admins}" group of ${p.userPoolId} yourself, or remove userPoolId.`);
  } else if (p.userPoolClientId) {
    fail(`Parameter userPoolClientId is only used with userPoolId (an existing user pool).`);
  }
  if (!Number.isInteger(p.accessTokenValidityMinutes) || p.accessTokenValidityMinutes < 5 || p.accessTokenValidityMinutes > 1440) {
    fail(`Parameter accessTokenValidityMinutes must be an integer from 5 to 1440 (Cognito's range); got ${p.accessTokenValidityMinutes}.`);
  }
  for (const name of ['wafApiRateLimit', 'wafXksRateLimit'] as const) {
    if (!Number.isInteger(p[name]) || p[name] < 10 || p[name] > 2_000_000_000) {
      fail(`Parameter ${name} must be an integer from 10 to 2000000000 (requests per IP address in 5 minutes, AWS WAF's range); got ${p[name]}.`);
    }
  }
  if (p.adminEmail !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(p.adminEmail)) fail(`Parameter adminEmail "${p.adminEmail}" is not an e-mail address.`);
}

function parseJson(name: string, value: string): unknown {
  try {
    return JSON.parse(value) as unknown;
  } catch {
    throw new ParameterError(`Parameter ${name} is not valid JSON: ${value}`);
  }
}

function jsonList(name: string, value: string): string[] {
  const parsed = parseJson(name, value);
  if (!Array.isArray(parsed) || !parsed.every((v) => typeof v === 'string')) throw new ParameterError(`Parameter ${name} must be a JSON array of strings.`);
  return parsed as string[];
}
