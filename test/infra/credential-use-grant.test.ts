import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { StateTable } from '../../lib/constructs/state-table';
import { STATE_TABLE } from '../../lambdas/contract/env';
import { entityPk } from '../../lambdas/adapters/dynamodb/state-table';

describe('StateTable.grantRecordCredentialUse', () => {
  it('grants UpdateItem only on items whose partition key starts with credentialUse#, and ConditionCheckItem only on key store records', () => {
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
          {
            Action: 'dynamodb:ConditionCheckItem',
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^StateTable'), 'Arn'] },
            Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['keyStore#*'] } },
          },
        ],
      },
    });
  });
});

it('the key store prefix of that grant is the one the state table adapter writes key store records under', () => {
  expect(entityPk('keyStore', 'kst-1')).toBe(`${STATE_TABLE.keyStorePkPrefix}kst-1`);
});
