import { apiHandler } from '../runtime/api-handler';

export const handler = apiHandler('DescribeAwsAccount', (req, deps) => deps.awsAccounts.describe(req.body));
