/**
 * An AWS WAF web ACL with one rate-based rule (requests per source IP address over 5 minutes),
 * associated with one regional resource: the management API's stage or the XKS proxy's
 * internet-facing ALB. A blocked request gets a 429 with the body its callers understand (a CCKM
 * error for the API, the XKS spec's ThrottlingException for the proxy).
 */
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';

export interface RateLimitWebAclProps {
  /** ARN of the API Gateway stage or load balancer the web ACL protects. */
  readonly resourceArn: string;
  /** Requests per source IP address in any 5-minute window before the address is blocked (10 to 2e9). */
  readonly limit: number;
  /** CloudWatch metric name of the ACL and its rule (letters, digits, `-` and `_`). */
  readonly metricName: string;
  /** JSON body of the 429 answered to a blocked request. */
  readonly blockedBody: string;
}

export class RateLimitWebAcl extends Construct {
  public readonly webAcl: wafv2.CfnWebACL;

  constructor(scope: Construct, id: string, props: RateLimitWebAclProps) {
    super(scope, id);
    if (!Number.isInteger(props.limit) || props.limit < 10 || props.limit > 2_000_000_000) {
      throw new Error(`RateLimitWebAcl ${this.node.path}: limit must be an integer from 10 to 2000000000 requests per 5 minutes (AWS WAF's range); got ${props.limit}.`);
    }
    if (!/^[\w-]{1,128}$/.test(props.metricName)) throw new Error(`RateLimitWebAcl ${this.node.path}: metricName must be 1-128 letters, digits, - or _; got "${props.metricName}".`);
    const visibility = (metricName: string): wafv2.CfnWebACL.VisibilityConfigProperty => ({ cloudWatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName });
    this.webAcl = new wafv2.CfnWebACL(this, 'Acl', {
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: visibility(props.metricName),
      customResponseBodies: { Throttled: { contentType: 'APPLICATION_JSON', content: props.blockedBody } },
      rules: [
        {
          name: 'RequestsPerIpAddress',
          priority: 0,
          statement: { rateBasedStatement: { aggregateKeyType: 'IP', limit: props.limit, evaluationWindowSec: 300 } },
          action: { block: { customResponse: { responseCode: 429, customResponseBodyKey: 'Throttled' } } },
          visibilityConfig: visibility(`${props.metricName}-RateLimit`),
        },
      ],
    });
    new wafv2.CfnWebACLAssociation(this, 'Association', { resourceArn: props.resourceArn, webAclArn: this.webAcl.attrArn });
  }
}
