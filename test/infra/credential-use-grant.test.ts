import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { StateTable } from '../../lib/constructs/state-table';

describe('StateTable.grantRecordCredentialUse', () => {
  it('grants UpdateItem only, on items whose partition key starts with credentialUse#', () => {
    // Arrange
    const stack = new Stack();
    const table = new StateTable(stack, 'State');
    const role = new iam.Role(stack, 'Proxy', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });

    // Act
    table.grantRecordCredentialUse(role);

    // Assert
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Action: 'dynamodb:UpdateItem',
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^StateTable'), 'Arn'] },
            Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['credentialUse#*'] } },
          },
        ],
      },
    });
  });
});
