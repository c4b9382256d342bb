/**
 * Where the XKS proxy and the HSM agent run: private subnets of a VPC that is created here or
 * imported (no look-up: synth works offline), a security group that reaches the HSM on its
 * vendor's ports, and VPC endpoints so that isolated subnets still reach DynamoDB and Secrets Manager
 * (and, for a CloudHSM deployment, the CloudHSMv2 API).
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { PortRange } from '../parameters';
import { acknowledge } from '../private/nag';

export interface ExistingVpcProps {
  readonly vpcId: string;
  /** CIDR block of the VPC. @default - unknown: `hsmCidrs` must then be given for a network HSM */
  readonly vpcCidr?: string;
  /** Private subnets, one per availability zone, in the order of `availabilityZones`. */
  readonly privateSubnetIds: readonly string[];
  /** Public subnets (internet-facing load balancer), in the order of `availabilityZones`. @default - none */
  readonly publicSubnetIds?: readonly string[];
}

export interface DataPlaneNetworkProps {
  /** Availability zones to use (no look-up is made). At least two. */
  readonly availabilityZones: readonly string[];
  /** Use an existing VPC. @default - a VPC is created */
  readonly existingVpc?: ExistingVpcProps;
  /** CIDR of the created VPC. @default '10.40.0.0/16' */
  readonly cidr?: string;
  /** NAT gateways of the created VPC; 0 makes the private subnets isolated. @default 0 */
  readonly natGateways?: number;
  /** Create public subnets in the created VPC (internet-facing load balancer, NAT). @default - only when natGateways > 0 */
  readonly publicSubnets?: boolean;
  /** Ports of the HSM client protocol. @default - no HSM rule (SoftHSM2 runs inside the container) */
  readonly hsmPorts?: PortRange;
  /** Where the HSMs listen. @default - the VPC's CIDR block */
  readonly hsmCidrs?: readonly string[];
  /**
   * Create a DynamoDB gateway endpoint and a Secrets Manager interface endpoint.
   * @default - true for a created VPC, false for an existing one (which usually has its own)
   */
  readonly vpcEndpoints?: boolean;
  /**
   * With `vpcEndpoints`, also an interface endpoint for the CloudHSMv2 API
   * (`com.amazonaws.<region>.cloudhsmv2`), which the XKS proxy's deep health check calls to list
   * the HSMs of a CloudHSM cluster (DescribeClusters). @default false
   */
  readonly cloudHsmApiEndpoint?: boolean;
}

export class DataPlaneNetwork extends Construct {
  public readonly vpc: ec2.IVpc;
  /** Subnets the functions and the internal load balancers use. */
  public readonly privateSubnets: ec2.SubnetSelection;
  /** Subnets of an internet-facing load balancer (undefined when the VPC has none). */
  public readonly publicSubnets?: ec2.SubnetSelection;
  /** Security group of the functions that talk PKCS#11 to the HSM (proxy, agent). */
  public readonly hsmClientSecurityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: DataPlaneNetworkProps) {
    super(scope, id);
    const azs = [...props.availabilityZones];
    if (azs.length < 2) throw new Error(`DataPlaneNetwork ${this.node.path}: give at least two availabilityZones (load balancers need two).`);
    const existing = props.existingVpc;
    const natGateways = props.natGateways ?? 0;

    if (existing) {
      if (props.cidr !== undefined || props.natGateways !== undefined || props.publicSubnets !== undefined) {
        throw new Error(`DataPlaneNetwork ${this.node.path}: cidr, natGateways and publicSubnets only apply to a created VPC; remove them or remove existingVpc.`);
      }
      if (existing.privateSubnetIds.length !== azs.length) {
        throw new Error(`DataPlaneNetwork ${this.node.path}: ${existing.privateSubnetIds.length} private subnets for ${azs.length} availability zones; give one private subnet per zone.`);
      }
      if (existing.publicSubnetIds && existing.publicSubnetIds.length !== azs.length) {
        throw new Error(`DataPlaneNetwork ${this.node.path}: ${existing.publicSubnetIds.length} public subnets for ${azs.length} availability zones; give one public subnet per zone.`);
      }
      if (props.hsmPorts && !props.hsmCidrs?.length && !existing.vpcCidr) {
        throw new Error(`DataPlaneNetwork ${this.node.path}: an existing VPC needs vpcCidr or hsmCidrs so that the HSM rule has a destination.`);
      }
      this.vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
        vpcId: existing.vpcId,
        vpcCidrBlock: existing.vpcCidr,
        availabilityZones: azs,
        privateSubnetIds: [...existing.privateSubnetIds],
        publicSubnetIds: existing.publicSubnetIds ? [...existing.publicSubnetIds] : undefined,
      });
      this.privateSubnets = { subnets: this.vpc.privateSubnets };
      this.publicSubnets = existing.publicSubnetIds ? { subnets: this.vpc.publicSubnets } : undefined;
    } else {
      if (!Number.isInteger(natGateways) || natGateways < 0 || natGateways > azs.length) {
        throw new Error(`DataPlaneNetwork ${this.node.path}: natGateways must be an integer from 0 to ${azs.length}; got ${natGateways}.`);
      }
      const withPublic = props.publicSubnets ?? natGateways > 0;
      if (natGateways > 0 && !withPublic) throw new Error(`DataPlaneNetwork ${this.node.path}: NAT gateways live in public subnets; set publicSubnets to true or natGateways to 0.`);
      const privateType = natGateways > 0 ? ec2.SubnetType.PRIVATE_WITH_EGRESS : ec2.SubnetType.PRIVATE_ISOLATED;
      const flowLogs = new logs.LogGroup(this, 'FlowLogs', { retention: logs.RetentionDays.THREE_MONTHS, removalPolicy: RemovalPolicy.RETAIN });
      const vpc = new ec2.Vpc(this, 'Vpc', {
        ipAddresses: ec2.IpAddresses.cidr(props.cidr ?? '10.40.0.0/16'),
        availabilityZones: azs,
        natGateways,
        subnetConfiguration: [
          ...(withPublic ? [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 }] : []),
          { name: 'private', subnetType: privateType, cidrMask: 22 },
        ],
        flowLogs: { rejected: { destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs), trafficType: ec2.FlowLogTrafficType.REJECT } },
      });
      this.vpc = vpc;
      this.privateSubnets = { subnetType: privateType };
      this.publicSubnets = withPublic ? { subnetType: ec2.SubnetType.PUBLIC } : undefined;
    }

    this.hsmClientSecurityGroup = new ec2.SecurityGroup(this, 'HsmClients', {
      vpc: this.vpc,
      description: 'XKS proxy and HSM agent: HTTPS to AWS APIs, the HSM client protocol to the HSMs',
      allowAllOutbound: false,
    });
    // AWS APIs (DynamoDB, Secrets Manager, CloudHSMv2) through the VPC endpoints or NAT; their addresses are not fixed.
    this.hsmClientSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to AWS APIs');
    if (props.hsmPorts) {
      const port = props.hsmPorts.from === props.hsmPorts.to ? ec2.Port.tcp(props.hsmPorts.from) : ec2.Port.tcpRange(props.hsmPorts.from, props.hsmPorts.to);
      const cidrs = props.hsmCidrs?.length ? props.hsmCidrs : [this.vpc.vpcCidrBlock];
      for (const cidr of cidrs) this.hsmClientSecurityGroup.addEgressRule(ec2.Peer.ipv4(cidr), port, 'HSM client protocol');
    }

    if (props.vpcEndpoints ?? !existing) {
      this.vpc.addGatewayEndpoint('DynamoDb', { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB, subnets: [this.privateSubnets] });
      const interfaceEndpoints: [string, ec2.InterfaceVpcEndpointAwsService][] = [['SecretsManager', ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER]];
      if (props.cloudHsmApiEndpoint) interfaceEndpoints.push(['CloudHsmV2', ec2.InterfaceVpcEndpointAwsService.CLOUDHSM]);
      for (const [id, service] of interfaceEndpoints) {
        const endpoint = this.vpc.addInterfaceEndpoint(id, { service, subnets: this.privateSubnets, privateDnsEnabled: true });
        acknowledge(endpoint, 'AwsSolutions-EC23', 'The endpoint\'s security group admits HTTPS from the VPC\'s own CIDR block only (a token cdk-nag cannot evaluate).');
      }
    }
  }
}
