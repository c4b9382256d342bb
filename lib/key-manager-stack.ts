/**
 * The whole deployment: state, secrets scoping, operators, the management API (whose route areas
 * are nested stacks), the HSM agent, the XKS proxy's network path and the monitoring, wired from
 * the app's parameters.
 */
import { Annotations, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as route53Targets from 'aws-cdk-lib/aws-route53-targets';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { DataPlaneNetwork } from './constructs/data-plane-network';
import { DailySweep } from './constructs/daily-sweep';
import { HsmAgent } from './constructs/hsm-agent';
import { JobScheduling } from './constructs/job-scheduling';
import { JobWorkers } from './constructs/job-workers';
import { ManagementApi } from './constructs/management-api';
import { Monitoring } from './constructs/monitoring';
import { ProxyImage } from './constructs/proxy-image';
import { SecretPrefixes } from './constructs/secret-prefixes';
import { StateTable } from './constructs/state-table';
import { UserDirectory } from './constructs/user-directory';
import { XksProxy } from './constructs/xks-proxy';
import { HSM_PORTS, validateParameters, type KeyManagerParameters } from './parameters';
import { acknowledge } from './private/nag';

export interface KeyManagerStackProps extends Omit<StackProps, 'env'> {
  /** The app's parameters (lib/parameters.ts); the stack's account and region come from them. */
  readonly parameters: KeyManagerParameters;
}

export class KeyManagerStack extends Stack {
  public readonly stateTable: StateTable;
  public readonly managementApi: ManagementApi;
  public readonly hsmAgent: HsmAgent;
  public readonly jobScheduling: JobScheduling;
  public readonly xksProxy: XksProxy;
  public readonly monitoring: Monitoring;
  /** The job engine: a queue, dead-letter queue, alarm and worker per job kind. */
  public readonly jobWorkers: JobWorkers;

  constructor(scope: Construct, id: string, props: KeyManagerStackProps) {
    const p = props.parameters;
    super(scope, id, { ...props, env: { account: p.account, region: p.region } });
    validateParameters(p);
    if (p.hsmType === 'softhsm') {
      Annotations.of(this).addWarningV2('xks-key-manager:softhsm', 'hsmType is softhsm: each proxy container has its own SoftHSM2 token, so keys created through the HSM agent are not seen by the proxy. Use it to smoke-test a deployment only; set -c hsmType=luna or cloudhsm for real use.');
    }
    if (p.proxyDomainName.endsWith('example.com')) {
      Annotations.of(this).addWarningV2('xks-key-manager:example-domain', `proxyDomainName is ${p.proxyDomainName}: set -c proxyDomainName=<your DNS name> (and a certificate or hosted zone) before deploying.`);
    }

    this.stateTable = new StateTable(this, 'State');
    const secrets = new SecretPrefixes(this, 'Secrets');
    const users = new UserDirectory(this, 'Users', {
      existingUserPoolId: p.userPoolId,
      existingUserPoolClientId: p.userPoolClientId,
      adminEmail: p.adminEmail,
      accessTokenValidity: Duration.minutes(p.accessTokenValidityMinutes),
    });
    const network = new DataPlaneNetwork(this, 'Network', {
      availabilityZones: p.availabilityZones,
      ...(p.vpcId
        ? { existingVpc: { vpcId: p.vpcId, vpcCidr: p.vpcCidr, privateSubnetIds: p.privateSubnetIds ?? [], publicSubnetIds: p.publicSubnetIds } }
        : { cidr: p.newVpcCidr, natGateways: p.natGateways, publicSubnets: p.natGateways > 0 || p.xksConnectivity === 'PUBLIC_ENDPOINT' }),
      hsmPorts: HSM_PORTS[p.hsmType],
      hsmCidrs: p.hsmCidrs,
      // The proxy's per-HSM health of a CloudHSM cluster calls the CloudHSMv2 API.
      cloudHsmApiEndpoint: p.hsmType === 'cloudhsm',
    });
    const image = new ProxyImage({ hsmType: p.hsmType, buildArgs: p.hsmClientBuildArgs, architecture: p.proxyArchitecture });

    this.hsmAgent = new HsmAgent(this, 'HsmAgent', {
      image,
      vpc: network.vpc,
      vpcSubnets: network.privateSubnets,
      securityGroup: network.hsmClientSecurityGroup,
      secrets,
    });
    const managementArchitecture = p.managementArchitecture === 'arm64' ? lambda.Architecture.ARM_64 : lambda.Architecture.X86_64;
    this.jobWorkers = new JobWorkers(this, 'SyncJobs', {
      stateTable: this.stateTable,
      architecture: managementArchitecture,
    });
    this.jobScheduling = new JobScheduling(this, 'Jobs', { stateTable: this.stateTable, secrets, hsmAgent: this.hsmAgent, jobWorkers: this.jobWorkers, architecture: managementArchitecture });
    new DailySweep(this, 'DailySweep', { stateTable: this.stateTable, secrets, hsmAgent: this.hsmAgent, architecture: managementArchitecture });
    this.managementApi = new ManagementApi(this, 'ManagementApi', {
      stateTable: this.stateTable,
      jobWorkers: this.jobWorkers,
      secrets,
      userPool: users.userPool,
      userPoolClient: users.userPoolClient,
      hsmAgent: this.hsmAgent,
      jobScheduling: this.jobScheduling,
      architecture: managementArchitecture,
      webAclRateLimit: p.waf ? p.wafApiRateLimit : undefined,
      // The same condition as the proxy's trust store below (parameters.ts requires both or neither).
      mtlsTrustStore: p.mtlsTrustStoreBucket !== undefined && p.mtlsTrustStoreKey !== undefined,
    });

    const accessLogBucket = new s3.Bucket(this, 'LoadBalancerLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED, // the only encryption ELB access logs support
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: Duration.days(365) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(accessLogBucket, 'AwsSolutions-S1', 'This bucket receives the load balancers\' access logs; logging its own access would only log the log delivery.');

    const zone = p.hostedZoneId && p.hostedZoneName
      ? route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', { hostedZoneId: p.hostedZoneId, zoneName: p.hostedZoneName })
      : undefined;
    const certificate = p.certificateArn
      ? acm.Certificate.fromCertificateArn(this, 'Certificate', p.certificateArn)
      : new acm.Certificate(this, 'Certificate', {
        domainName: p.proxyDomainName,
        // Without a hosted zone, the deployment waits until the CNAME ACM asks for exists (see the README).
        validation: acm.CertificateValidation.fromDns(zone),
      });
    const trustStoreBucket = p.mtlsTrustStoreBucket ? s3.Bucket.fromBucketName(this, 'TrustStoreBucket', p.mtlsTrustStoreBucket) : undefined;

    this.xksProxy = new XksProxy(this, 'XksProxy', {
      image,
      vpc: network.vpc,
      privateSubnets: network.privateSubnets,
      publicSubnets: network.publicSubnets,
      securityGroup: network.hsmClientSecurityGroup,
      stateTable: this.stateTable,
      secrets,
      connectivity: p.xksConnectivity,
      certificate,
      endpointServicePrivateDnsName: p.xksConnectivity === 'VPC_ENDPOINT_SERVICE' ? p.endpointServicePrivateDnsName ?? p.proxyDomainName : undefined,
      mtlsTrustStore: trustStoreBucket && p.mtlsTrustStoreKey ? { bucket: trustStoreBucket, key: p.mtlsTrustStoreKey } : undefined,
      provisionedConcurrency: p.provisionedConcurrency,
      accessLogBucket,
      webAclRateLimit: p.waf && p.xksConnectivity === 'PUBLIC_ENDPOINT' ? p.wafXksRateLimit : undefined,
      cloudHsmClusterHealth: p.hsmType === 'cloudhsm',
    });
    if (p.xksConnectivity === 'PUBLIC_ENDPOINT' && zone) {
      new route53.ARecord(this, 'ProxyAlias', {
        zone,
        recordName: p.proxyDomainName,
        target: route53.RecordTarget.fromAlias(new route53Targets.LoadBalancerTarget(this.xksProxy.loadBalancer)),
      });
    }

    this.monitoring = new Monitoring(this, 'Monitoring', {
      proxyAlias: this.xksProxy.alias,
      proxyTargetGroup: this.xksProxy.targetGroup,
      api: this.managementApi.api,
    });
    this.jobScheduling.deadLetterAlarm.addAlarmAction(new cloudwatchActions.SnsAction(this.monitoring.alarmTopic));
    for (const alarm of this.jobWorkers.alarms) alarm.addAlarmAction(new cloudwatchActions.SnsAction(this.monitoring.alarmTopic));

    this.outputs(p, users);
  }

  private outputs(p: KeyManagerParameters, users: UserDirectory): void {
    const out = (id: string, value: string, description: string): CfnOutput => new CfnOutput(this, id, { value, description });
    out('ManagementApiUrl', this.managementApi.url, 'Management API base URL; operations are under v1/cckm/...');
    out('UserPoolId', users.userPool.userPoolId, 'Cognito user pool of the operators (groups cckm-admins, cckm-users)');
    out('UserPoolClientId', users.userPoolClient.userPoolClientId, 'App client for `aws cognito-idp initiate-auth`');
    out('XksProxyUriEndpoint', `https://${p.proxyDomainName}`, 'XksProxyUriEndpoint of the external key stores');
    out('XksProxyConnectivity', p.xksConnectivity, 'XksProxyConnectivity of the external key stores');
    out('XksLoadBalancerDnsName', this.xksProxy.loadBalancer.loadBalancerDnsName, p.xksConnectivity === 'PUBLIC_ENDPOINT'
      ? `Point ${p.proxyDomainName} (CNAME or alias) here unless hostedZoneId was given`
      : 'Internal ALB behind the NLB (for tests from inside the VPC)');
    if (this.xksProxy.endpointServiceName) {
      out('XksVpcEndpointServiceName', this.xksProxy.endpointServiceName, 'XksProxyVpcEndpointServiceName of the external key stores');
    }
    const verification = this.xksProxy.privateDnsVerification;
    if (verification) {
      out('PrivateDnsVerificationRecordName', verification.name, `Create a TXT record with this name under ${p.endpointServicePrivateDnsName ?? p.proxyDomainName}'s domain`);
      out('PrivateDnsVerificationRecordValue', verification.value, 'Value of that TXT record');
    }
    out('HsmAgentFunctionName', this.hsmAgent.function.functionName, 'The HSM agent (invoked by the control plane only)');
    out('JobScheduleGroupName', this.jobScheduling.scheduleGroup.scheduleGroupName, 'EventBridge Scheduler group holding one schedule per job configuration');
    out('StateTableName', this.stateTable.table.tableName, 'DynamoDB table holding the control plane state (retained on stack deletion)');
    out('AlarmTopicArn', this.monitoring.alarmTopic.topicArn, 'Subscribe your on-call address to this SNS topic');
    out('DashboardName', this.monitoring.dashboard.dashboardName, 'CloudWatch dashboard');
  }
}
