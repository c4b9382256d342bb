/**
 * Request and query schemas of the AWS account container routes (CCKM's AWS account
 * API; referenced from ./schemas.ts). Plain data. They check shapes; the rules that need more (a role
 * ARN in the container's own account, region names, ACL action names, exactly one of user_id and
 * group) live in core/accounts/account.ts and answer with a 400 naming the field.
 */
import type { JsonSchema } from './json-schema';
import { LISTS } from './lists';
import { displayName as name, listQuery as query, strictObject as strict } from './schema-parts';

const regions: JsonSchema = { type: 'array', minItems: 1, maxItems: 64, items: { type: 'string', minLength: 1, maxLength: 64 } };
const roleArn: JsonSchema = { type: 'string', minLength: 20, maxLength: 2048 };
/** IAM's rule for sts:ExternalId. */
const externalId: JsonSchema = { type: 'string', minLength: 2, maxLength: 1224, pattern: '^[\\w+=,.@:/-]+$' };

export const accountSchemas = {
  create: strict(
    {
      name,
      account_id: { type: 'string', pattern: '^\\d{12}$' },
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
      assume_role_arn: { anyOf: [roleArn, { type: 'null' }] },
      assume_role_external_id: { anyOf: [externalId, { type: 'null' }] },
    },
    [],
    { minProperties: 1 },
  ),
  updateAcls: strict(
    {
      acls: {
        type: 'array',
        minItems: 1,
        maxItems: 100,
        items: strict(
          {
            user_id: { type: 'string', minLength: 1, maxLength: 256 },
            group: { type: 'string', minLength: 1, maxLength: 256 },
            permit: { type: 'boolean' },
            actions: { type: 'array', minItems: 1, maxItems: 64, items: { type: 'string', minLength: 1, maxLength: 64 } },
          },
          ['permit', 'actions'],
        ),
      },
    },
    ['acls'],
  ),
  listQuery: query(LISTS.accountContainers),
  /** POST /v1/cckm/aws/accounts: neither field = the deployment's own account. */
  describe: strict({ assume_role_arn: roleArn, assume_role_external_id: externalId }, []),
} satisfies Record<string, JsonSchema>;
