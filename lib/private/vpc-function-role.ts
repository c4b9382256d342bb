/**
 * The role of a function that runs in a VPC (XKS proxy, HSM agent): it may write to its own log
 * group and manage its network interfaces, and nothing else until the caller grants more.
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { functionRole } from './lambda-functions';
import { acknowledge } from './nag';

/** What Lambda needs to attach a function to subnets (the actions of AWSLambdaVPCAccessExecutionRole, minus its logs:* on `*`). */
const ENI_ACTIONS = [
  'ec2:CreateNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:DeleteNetworkInterface',
  'ec2:AssignPrivateIpAddresses',
  'ec2:UnassignPrivateIpAddresses',
];

/** `path`: the IAM path that lets the role use the deployment's secrets (SecretPrefixes.rolePathFor). */
export function vpcFunctionRole(scope: Construct, id: string, logGroup: logs.ILogGroup, description: string, path: string): iam.Role {
  const role = functionRole(scope, id, logGroup, description, path);
  role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ENI_ACTIONS, resources: ['*'] }));
  acknowledge(role, 'AwsSolutions-IAM5[Resource::*]', 'The EC2 network-interface actions Lambda needs to place a function in a VPC do not support resource-level permissions (they are the actions of AWSLambdaVPCAccessExecutionRole).');
  return role;
}
