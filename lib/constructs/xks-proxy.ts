/**
 * The XKS proxy's network path, as AWS KMS needs it (README, "What gets deployed"):
 *
 *   VPC_ENDPOINT_SERVICE: KMS ── endpoint service ── NLB (TCP 443) ── internal ALB (HTTPS 443) ── Lambda
 *   PUBLIC_ENDPOINT:      KMS ── internet-facing ALB (HTTPS 443) ── Lambda
 *
 * The function is the container image's proxy entry, in private subnets, behind an alias with
 * provisioned concurrency that Application Auto Scaling keeps at a target utilization.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import type * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as targets from 'aws-cdk-lib/aws-elasticloadbalancingv2-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ENV, METRICS } from '../../lambdas/contract/env';
import type { ProvisionedConcurrencyParameters, XksConnectivity } from '../parameters';
import { grantCloudHsm } from '../private/kms-grants';
import { functionLogGroup, vpcImageFunction } from '../private/lambda-functions';
import { acknowledge } from '../private/nag';
import { vpcFunctionRole } from '../private/vpc-function-role';
import type { ProxyImage } from './proxy-image';
import { RateLimitWebAcl } from './rate-limit-web-acl';
import type { SecretPrefixes } from './secret-prefixes';
import type { StateTable } from './state-table';

/**
 * TLS 1.2+ with only AEAD suites: TLS 1.3 TLS_AES_128/256_GCM and CHACHA20, TLS 1.2
 * ECDHE-(RSA|ECDSA)-AES(128|256)-GCM-SHA(256|384). It offers exactly what the XKS spec asks
 * (ECDHE-RSA/ECDSA-AES256-GCM-SHA384, TLS_AES_256_GCM_SHA384) and drops the CBC suites that
 * RECOMMENDED_TLS (…TLS13-1-2-2021-06) still allows. Use SslPolicy.FIPS_TLS13_12_RES for FIPS endpoints.
 */
export const XKS_SSL_POLICY = elbv2.SslPolicy.TLS13_RES;

/** The S3 object the ALB's mutual-TLS trust store is made from (a PEM CA bundle). */
export interface MtlsTrustStoreSource {
  readonly bucket: s3.IBucket;
  readonly key: string;
}

export interface XksProxyProps {
  readonly image: ProxyImage;
  readonly vpc: ec2.IVpc;
  /** Private subnets of the function, the NLB and an internal ALB. */
  readonly privateSubnets: ec2.SubnetSelection;
  /** Public subnets of an internet-facing ALB; required for PUBLIC_ENDPOINT. @default - none */
  readonly publicSubnets?: ec2.SubnetSelection;
  /** Security group that reaches the HSM (DataPlaneNetwork.hsmClientSecurityGroup). */
  readonly securityGroup: ec2.ISecurityGroup;
  readonly stateTable: StateTable;
  readonly secrets: SecretPrefixes;
  /** @default 'VPC_ENDPOINT_SERVICE' */
  readonly connectivity?: XksConnectivity;
  /** Certificate of the proxy's DNS name, served by the ALB. */
  readonly certificate: acm.ICertificate;
  /** Private DNS name of the endpoint service (VPC_ENDPOINT_SERVICE only), usually the proxy's DNS name. */
  readonly endpointServicePrivateDnsName?: string;
  /** Mutual TLS at the ALB in verify mode against this CA bundle. @default - no client certificate is requested */
  readonly mtlsTrustStore?: MtlsTrustStoreSource;
  readonly provisionedConcurrency: ProvisionedConcurrencyParameters;
  /** Bucket for the load balancers' access logs (SSE-S3, as ELB requires). */
  readonly accessLogBucket: s3.IBucket;
  /** @default XKS_SSL_POLICY */
  readonly sslPolicy?: elbv2.SslPolicy;
  /** @default 1024 */
  readonly memorySize?: number;
  /** KMS gives up after 250 ms; the function never needs more than a cold start. @default Duration.seconds(5) */
  readonly timeout?: Duration;
  /** @default logs.RetentionDays.ONE_YEAR */
  readonly logRetention?: logs.RetentionDays;
  /**
   * PUBLIC_ENDPOINT only: requests per source IP address in any 5-minute window that an AWS WAF
   * web ACL on the internet-facing ALB lets through before blocking the address (the spec's
   * ThrottlingException, 429). AWS KMS sends up to 1,800 requests/s per key store from few
   * addresses: keep it well above 540,000.
   * @default - no web ACL
   */
  readonly webAclRateLimit?: number;
  /**
   * The deep health check lists the HSMs of CloudHSM partitions' clusters one by one (CloudHSMv2
   * DescribeClusters, in the deployment's account and region): the function is granted
   * cloudhsm:DescribeClusters. Its subnets must reach the CloudHSMv2 API (DataPlaneNetwork
   * `cloudHsmApiEndpoint`, or NAT). @default false
   */
  readonly cloudHsmClusterHealth?: boolean;
}

export class XksProxy extends Construct {
  public readonly function: lambda.DockerImageFunction;
  /** The alias the ALB invokes; it carries the provisioned concurrency. */
  public readonly alias: lambda.Alias;
  public readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  public readonly listener: elbv2.ApplicationListener;
  public readonly targetGroup: elbv2.ApplicationTargetGroup;
  public readonly networkLoadBalancer?: elbv2.NetworkLoadBalancer;
  public readonly endpointService?: ec2.CfnVPCEndpointService;
  /** `com.amazonaws.vpce.<region>.vpce-svc-…`: what the external key store's `XksProxyVpcEndpointServiceName` takes. */
  public readonly endpointServiceName?: string;
  public readonly trustStore?: elbv2.TrustStore;
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: XksProxyProps) {
    super(scope, id);
    const connectivity = props.connectivity ?? 'VPC_ENDPOINT_SERVICE';
    const pc = props.provisionedConcurrency;
    const internetFacing = connectivity === 'PUBLIC_ENDPOINT';
    if (internetFacing && !props.publicSubnets) {
      throw new Error(`XksProxy ${this.node.path}: PUBLIC_ENDPOINT needs publicSubnets for the internet-facing load balancer (a VPC with public subnets).`);
    }
    if (internetFacing && props.endpointServicePrivateDnsName) {
      throw new Error(`XksProxy ${this.node.path}: endpointServicePrivateDnsName only applies to VPC_ENDPOINT_SERVICE; remove it or change the connectivity.`);
    }
    if (!Number.isInteger(pc.min) || pc.min < 1 || !Number.isInteger(pc.max) || pc.max < pc.min) {
      throw new Error(`XksProxy ${this.node.path}: provisioned concurrency needs integers 1 ≤ min ≤ max; got min ${pc.min}, max ${pc.max}.`);
    }
    if (!(pc.targetUtilization >= 0.1 && pc.targetUtilization <= 0.9)) {
      throw new Error(`XksProxy ${this.node.path}: provisioned concurrency targetUtilization must be between 0.1 and 0.9; got ${pc.targetUtilization}.`);
    }

    // The function, its alias with provisioned concurrency, and auto scaling on utilization.
    this.logGroup = functionLogGroup(this, 'Logs', props.logRetention);
    const role = vpcFunctionRole(this, 'Role', this.logGroup, 'XKS proxy: reads key store state and XKS secrets, talks PKCS#11 to the HSM', props.secrets.rolePathFor('read'));
    this.function = vpcImageFunction(this, 'Function', {
      description: 'XKS proxy (AWS KMS external key store data plane)',
      code: props.image.code('xksProxy'),
      architecture: props.image.architecture,
      serviceName: METRICS.service,
      memorySize: props.memorySize ?? 1024,
      timeout: props.timeout ?? Duration.seconds(5),
      role,
      logGroup: this.logGroup,
      vpc: props.vpc,
      vpcSubnets: props.privateSubnets,
      securityGroup: props.securityGroup,
      environment: {
        [ENV.stateTableName]: props.stateTable.table.tableName,
        ...props.secrets.environmentFor('read'),
        // GetHealthStatus reports the warm fleet: the provisioned instances.
        [ENV.xksProxyFleetSize]: String(pc.min),
        // Only then may the proxy trust the ALB's x-amzn-mtls-clientcert-* headers.
        [ENV.xksAlbMtlsVerify]: props.mtlsTrustStore ? 'true' : 'false',
      },
    });
    props.stateTable.grantRead(role);
    props.stateTable.grantRecordCredentialUse(role);
    props.secrets.grantRead(role, 'xks');
    props.secrets.grantRead(role, 'hsmPin');
    if (props.cloudHsmClusterHealth) grantCloudHsm(role, ['DescribeClusters']);

    this.alias = new lambda.Alias(this, 'Live', {
      aliasName: 'live',
      version: this.function.currentVersion,
      provisionedConcurrentExecutions: pc.min,
    });
    const scaling = this.alias.addAutoScaling({ minCapacity: pc.min, maxCapacity: pc.max });
    scaling.scaleOnUtilization({ utilizationTarget: pc.targetUtilization });

    // The ALB: TLS termination (and client-certificate verification) in front of the Lambda target.
    const albSecurityGroup = new ec2.SecurityGroup(this, 'AlbSecurityGroup', { vpc: props.vpc, description: 'XKS proxy ALB', allowAllOutbound: false });
    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'Alb', {
      vpc: props.vpc,
      internetFacing,
      vpcSubnets: internetFacing ? props.publicSubnets : props.privateSubnets,
      securityGroup: albSecurityGroup,
      dropInvalidHeaderFields: true,
    });
    this.loadBalancer.logAccessLogs(props.accessLogBucket, 'xks-alb');
    if (internetFacing) {
      albSecurityGroup.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'AWS KMS over the internet (PUBLIC_ENDPOINT)');
      acknowledge(albSecurityGroup, 'AwsSolutions-EC23', 'PUBLIC_ENDPOINT: AWS KMS calls the proxy from addresses AWS does not publish per service; every request is authenticated by SigV4 with the key store\'s XKS credential (and by mTLS when a trust store is set).');
    }

    if (props.webAclRateLimit !== undefined) {
      if (!internetFacing) throw new Error(`XksProxy ${this.node.path}: webAclRateLimit applies to the internet-facing ALB of PUBLIC_ENDPOINT only (AWS KMS reaches VPC_ENDPOINT_SERVICE through PrivateLink).`);
      new RateLimitWebAcl(this, 'WebAcl', {
        resourceArn: this.loadBalancer.loadBalancerArn,
        limit: props.webAclRateLimit,
        metricName: 'XksProxy',
        blockedBody: '{"errorName":"ThrottlingException","errorMessage":"Too many requests from this address"}',
      });
    }

    this.trustStore = props.mtlsTrustStore
      ? new elbv2.TrustStore(this, 'TrustStore', { bucket: props.mtlsTrustStore.bucket, key: props.mtlsTrustStore.key })
      : undefined;

    this.targetGroup = new elbv2.ApplicationTargetGroup(this, 'Targets', {
      targetType: elbv2.TargetType.LAMBDA,
      targets: [new targets.LambdaTarget(this.alias)],
      healthCheck: { enabled: true, path: '/ping', interval: Duration.seconds(30), healthyHttpCodes: '200', healthyThresholdCount: 2, unhealthyThresholdCount: 2 },
    });
    this.listener = this.loadBalancer.addListener('Https', {
      port: 443,
      protocol: elbv2.ApplicationProtocol.HTTPS,
      certificates: [props.certificate],
      sslPolicy: props.sslPolicy ?? XKS_SSL_POLICY,
      open: false,
      defaultTargetGroups: [this.targetGroup],
      mutualAuthentication: this.trustStore
        ? { mutualAuthenticationMode: elbv2.MutualAuthenticationMode.VERIFY, trustStore: this.trustStore, ignoreClientCertificateExpiry: false }
        : undefined,
    });

    if (connectivity === 'VPC_ENDPOINT_SERVICE') {
      const nlbSecurityGroup = new ec2.SecurityGroup(this, 'NlbSecurityGroup', { vpc: props.vpc, description: 'XKS proxy NLB (endpoint service)', allowAllOutbound: false });
      nlbSecurityGroup.addIngressRule(ec2.Peer.ipv4(props.vpc.vpcCidrBlock), ec2.Port.tcp(443), 'Clients inside the VPC');
      acknowledge(nlbSecurityGroup, 'AwsSolutions-EC23', 'The only ingress rule is HTTPS from the VPC\'s own CIDR block (a token cdk-nag cannot evaluate); AWS KMS arrives through PrivateLink.');
      this.networkLoadBalancer = new elbv2.NetworkLoadBalancer(this, 'Nlb', {
        vpc: props.vpc,
        internetFacing: false,
        vpcSubnets: props.privateSubnets,
        crossZoneEnabled: true,
        securityGroups: [nlbSecurityGroup],
        // AWS KMS arrives through PrivateLink from addresses outside this VPC; the ALB behind
        // authenticates every request, so the NLB's group does not filter PrivateLink traffic.
        enforceSecurityGroupInboundRulesOnPrivateLinkTraffic: false,
      });
      acknowledge(this.networkLoadBalancer, 'AwsSolutions-ELB2', 'The NLB only passes TCP 443 through to the ALB (TLS ends there); NLB access logs cover TLS listeners only, and the ALB logs every request.');
      albSecurityGroup.addIngressRule(nlbSecurityGroup, ec2.Port.tcp(443), 'From the NLB');
      nlbSecurityGroup.addEgressRule(albSecurityGroup, ec2.Port.tcp(443), 'To the ALB');
      this.networkLoadBalancer.addListener('Tcp', { port: 443, protocol: elbv2.Protocol.TCP }).addTargets('Alb', {
        port: 443,
        targets: [new targets.AlbListenerTarget(this.listener)],
        healthCheck: { protocol: elbv2.Protocol.HTTPS, path: '/ping', interval: Duration.seconds(30) },
      });

      this.endpointService = new ec2.CfnVPCEndpointService(this, 'EndpointService', {
        networkLoadBalancerArns: [this.networkLoadBalancer.loadBalancerArn],
        // AWS KMS creates its interface endpoint unattended: it cannot wait for an acceptance.
        acceptanceRequired: false,
        privateDnsName: props.endpointServicePrivateDnsName,
      });
      new ec2.CfnVPCEndpointServicePermissions(this, 'EndpointServicePermissions', {
        serviceId: this.endpointService.ref,
        allowedPrincipals: [kmsEndpointPrincipal(Stack.of(this).region)],
      });
      this.endpointServiceName = `com.amazonaws.vpce.${Stack.of(this).region}.${this.endpointService.ref}`;
    }
  }

  /** Name and value of the TXT record that proves ownership of the endpoint service's private DNS name. */
  public get privateDnsVerification(): { readonly name: string; readonly value: string } | undefined {
    if (!this.endpointService?.privateDnsName) return undefined;
    return { name: this.endpointService.attrPrivateDnsNameConfigurationName, value: this.endpointService.attrPrivateDnsNameConfigurationValue };
  }
}

/** The principal AWS KMS uses to create its interface endpoint to a key store's endpoint service. */
export function kmsEndpointPrincipal(region: string): string {
  return `cks.kms.${region}.amazonaws.com`;
}
