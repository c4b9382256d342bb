/**
 * The app's parameters: read from cdk.json context and `-c` overrides, defaults, and one test per
 * validation message.
 */
import { App } from 'aws-cdk-lib';
import { PARAMETER_DEFAULTS, parametersFromContext } from '../../lib/parameters';
import { CDK_JSON_CONTEXT } from './fixtures';

/** Parameters as `cdk synth -c ...` would read them, with no CDK_DEFAULT_* in the environment. */
const read = (overrides: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = {}) =>
  parametersFromContext(new App({ context: { ...CDK_JSON_CONTEXT, ...overrides } }).node, env);

describe('parametersFromContext', () => {
  it('gives cdk.json\'s defaults', () => {
    // Act
    const p = read();
    // Assert
    expect(p).toMatchObject({
      hsmType: 'softhsm',
      region: 'us-east-1',
      account: undefined,
      availabilityZones: ['us-east-1a', 'us-east-1b'],
      xksConnectivity: 'VPC_ENDPOINT_SERVICE',
      proxyDomainName: 'xks.example.com',
      natGateways: 0,
      provisionedConcurrency: PARAMETER_DEFAULTS.provisionedConcurrency,
      proxyArchitecture: 'x86_64',
      managementArchitecture: 'arm64',
      accessTokenValidityMinutes: 15,
      waf: true,
    });
  });

  it('reads -c waf=false and the token validity as -c gives them (strings)', () => {
    expect(read({ waf: 'false', accessTokenValidityMinutes: '30' })).toMatchObject({ waf: false, accessTokenValidityMinutes: 30 });
  });

  it('reads -c strings as lists, numbers and JSON objects', () => {
    const p = read({
      vpcId: 'vpc-0123456789abcdef0',
      vpcCidr: '10.1.0.0/16',
      privateSubnetIds: 'subnet-0123456789abcdef0, subnet-0123456789abcdef1',
      provisionedConcurrencyMin: '3',
      provisionedConcurrencyTargetUtilization: '0.5',
      hsmClientBuildArgs: '{"CLOUDHSM_HSM_IPS":"10.0.0.5"}',
    });
    expect(p.privateSubnetIds).toEqual(['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1']);
    expect(p.provisionedConcurrency).toEqual({ min: 3, max: 20, targetUtilization: 0.5 });
    expect(p.hsmClientBuildArgs).toEqual({ CLOUDHSM_HSM_IPS: '10.0.0.5' });
  });

  it('takes account and region from the CDK_DEFAULT_* environment first', () => {
    const p = read({ availabilityZones: 'eu-west-1a,eu-west-1b' }, { CDK_DEFAULT_ACCOUNT: '123456789012', CDK_DEFAULT_REGION: 'eu-west-1' });
    expect([p.account, p.region]).toEqual(['123456789012', 'eu-west-1']);
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['an unknown hsmType', { hsmType: 'thales' }, /hsmType must be one of luna, cloudhsm, softhsm; got "thales"/],
    ['an unknown connectivity', { xksConnectivity: 'VPC' }, /xksConnectivity must be one of VPC_ENDPOINT_SERVICE, PUBLIC_ENDPOINT/],
    ['a number that is not one', { natGateways: 'one' }, /natGateways must be a number, got "one"/],
    ['a list of non-strings', { availabilityZones: [1, 2] }, /availabilityZones must be a list of strings/],
    ['invalid JSON build args', { hsmClientBuildArgs: '{nope' }, /hsmClientBuildArgs is not valid JSON/],
    ['build args that are not strings', { hsmClientBuildArgs: { A: 1 } }, /hsmClientBuildArgs must be an object of strings/],
    ['cloudhsm without the HSM addresses', { hsmType: 'cloudhsm' }, /hsmType cloudhsm needs the HSMs' IP addresses .*CLOUDHSM_HSM_IPS/],
    ['HSM_CLIENT in the build args', { hsmClientBuildArgs: { HSM_CLIENT: 'luna' } }, /hsmClientBuildArgs must not set HSM_CLIENT; set the hsmType parameter/],
    ['a missing region', { region: undefined }, /No region: set CDK_DEFAULT_REGION/],
    ['one availability zone', { availabilityZones: 'us-east-1a' }, /availabilityZones needs at least two zones of us-east-1/],
    ['a zone of another region', { availabilityZones: 'us-east-1a,eu-west-1b' }, /eu-west-1b is not in region us-east-1/],
    ['a malformed vpcId', { vpcId: 'vpc-xyz' }, /vpcId "vpc-xyz" is not a VPC id/],
    ['an existing VPC without subnets', { vpcId: 'vpc-0123456789abcdef0' }, /vpcId needs privateSubnetIds/],
    ['fewer subnets than zones', { vpcId: 'vpc-0123456789abcdef0', privateSubnetIds: 'subnet-0123456789abcdef0' }, /privateSubnetIds has 1 subnets but availabilityZones has 2/],
    ['PUBLIC_ENDPOINT in an existing VPC without public subnets', { vpcId: 'vpc-0123456789abcdef0', vpcCidr: '10.1.0.0/16', privateSubnetIds: 'subnet-0123456789abcdef0,subnet-0123456789abcdef1', xksConnectivity: 'PUBLIC_ENDPOINT' }, /PUBLIC_ENDPOINT with an existing VPC needs publicSubnetIds/],
    ['a network HSM in an existing VPC with no CIDR', { vpcId: 'vpc-0123456789abcdef0', privateSubnetIds: 'subnet-0123456789abcdef0,subnet-0123456789abcdef1', hsmType: 'luna' }, /set vpcCidr .* or hsmCidrs/],
    ['a malformed subnet id', { vpcId: 'vpc-0123456789abcdef0', vpcCidr: '10.1.0.0/16', privateSubnetIds: 'subnet-1,subnet-0123456789abcdef1' }, /"subnet-1" is not a subnet id/],
    ['subnets without vpcId', { privateSubnetIds: 'subnet-0123456789abcdef0' }, /privateSubnetIds is only used with vpcId/],
    ['a malformed newVpcCidr', { newVpcCidr: '10.40.0.0' }, /newVpcCidr "10.40.0.0" is not a CIDR block/],
    ['more NAT gateways than zones', { natGateways: 3 }, /natGateways must be an integer from 0 to 2/],
    ['a malformed HSM CIDR', { hsmCidrs: '10.0.0.1' }, /"10.0.0.1" is not a CIDR block/],
    ['a missing proxy DNS name', { proxyDomainName: '' }, /proxyDomainName must be the XKS proxy's DNS name/],
    ['an upper-case proxy DNS name', { proxyDomainName: 'XKS.example.com' }, /proxyDomainName must be the XKS proxy's DNS name in lower case/],
    ['a malformed private DNS name', { endpointServicePrivateDnsName: 'not a name' }, /endpointServicePrivateDnsName "not a name" is not a DNS name/],
    ['a malformed certificate ARN', { certificateArn: 'arn:aws:acm:us-east-1:1:cert' }, /certificateArn .* is not an ACM certificate ARN/],
    ['a hosted zone id without its name', { hostedZoneId: 'Z0123' }, /hostedZoneId and hostedZoneName go together/],
    ['a proxy name outside the hosted zone', { hostedZoneId: 'Z0123', hostedZoneName: 'example.org' }, /proxyDomainName xks.example.com is not inside hostedZoneName example.org/],
    ['a trust store bucket without key', { mtlsTrustStoreBucket: 'b' }, /mtlsTrustStoreBucket and mtlsTrustStoreKey go together/],
    ['a minimum below 1', { provisionedConcurrencyMin: 0 }, /provisionedConcurrencyMin must be an integer ≥ 1/],
    ['a maximum below the minimum', { provisionedConcurrencyMin: 5, provisionedConcurrencyMax: 4 }, /provisionedConcurrencyMax must be an integer ≥ provisionedConcurrencyMin \(5\)/],
    ['a target utilization out of range', { provisionedConcurrencyTargetUtilization: 70 }, /provisionedConcurrencyTargetUtilization must be between 0.1 and 0.9; got 70/],
    ['a malformed user pool id', { userPoolId: 'pool', userPoolClientId: 'c' }, /userPoolId "pool" is not a Cognito user pool id/],
    ['a user pool without client', { userPoolId: 'us-east-1_abc' }, /userPoolId needs userPoolClientId/],
    ['adminEmail with an existing pool', { userPoolId: 'us-east-1_abc', userPoolClientId: 'c', adminEmail: 'a@b.org' }, /adminEmail only applies to a user pool this stack creates/],
    ['a client without pool', { userPoolClientId: 'c' }, /userPoolClientId is only used with userPoolId/],
    ['a malformed adminEmail', { adminEmail: 'admin' }, /adminEmail "admin" is not an e-mail address/],
    ['a token validity below Cognito\'s 5 minutes', { accessTokenValidityMinutes: 4 }, /accessTokenValidityMinutes must be an integer from 5 to 1440/],
    ['waf that is not a boolean', { waf: 'yes' }, /waf must be true or false, got "yes"/],
    ['a WAF rate limit below 10', { wafApiRateLimit: 5 }, /wafApiRateLimit must be an integer from 10 to 2000000000/],
  ])('refuses %s', (_case, overrides, message) => {
    expect(() => read(overrides)).toThrow(message);
  });
});
