/**
 * Request and query schemas of the AWS account container routes (CCKM's AWS account
 * API; referenced from ./schemas.ts). TypeBox (schema-parts.ts), request types beside them. They check shapes; the rules that need more (a role
 * ARN in the container's own account, region names, ACL action names, exactly one of user_id and
 * group) live in core/accounts/account.ts and answer with a 400 naming the field.
 */
import { Type } from '@sinclair/typebox';
import type { RequestOf, RequestSchema } from './json-schema';
import { LISTS } from './lists';
import { displayName as name, listQuery as query, strictObject as strict, text } from './schema-parts';

const regions = Type.Array(text(64), { minItems: 1, maxItems: 64 });
const roleArn = text(2048, 20);
/** IAM's rule for sts:ExternalId. */
const externalId = text(1224, 2, { pattern: '^[\\w+=,.@:/-]+$' });

export const accountSchemas = {
  create: strict(
    {
      name,
      account_id: Type.String({ maxLength: 12, pattern: '^\\d{12}$' }),
      regions,
      assume_role_arn: roleArn,
      assume_role_external_id: externalId,
    },
    ['name', 'account_id', 'regions'],
  ),
  /** `null` removes the role (or the external id): the container is then reached as the deployment's own account. */
  update: strict(
    {
      regions,
      assume_role_arn: Type.Union([roleArn, Type.Null()]),
      assume_role_external_id: Type.Union([externalId, Type.Null()]),
    },
    [],
    { minProperties: 1 },
  ),
  updateAcls: strict(
    {
      acls: Type.Array(
        strict(
          {
            user_id: text(256),
            group: text(256),
            permit: Type.Boolean(),
            actions: Type.Array(text(64), { minItems: 1, maxItems: 64 }),
          },
          ['permit', 'actions'],
        ),
        { minItems: 1, maxItems: 100 },
      ),
    },
    ['acls'],
  ),
  listQuery: query(LISTS.accountContainers),
  /** POST /v1/cckm/aws/accounts: neither field = the deployment's own account. */
  describe: strict({ assume_role_arn: roleArn, assume_role_external_id: externalId }, []),
} satisfies Record<string, RequestSchema>;

export type CreateAccountContainerRequest = RequestOf<typeof accountSchemas.create>;
export type UpdateAccountContainerRequest = RequestOf<typeof accountSchemas.update>;
export type UpdateAclsRequest = RequestOf<typeof accountSchemas.updateAcls>;
export type DescribeAwsAccountRequest = RequestOf<typeof accountSchemas.describe>;
