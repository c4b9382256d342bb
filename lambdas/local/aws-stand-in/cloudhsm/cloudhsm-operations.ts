/**
 * CloudHSMv2 (`X-Amz-Target: BaldrApiService.<Op>`): DescribeClusters, with the filters and paging
 * of the API reference: `clusterIds`, `vpcIds`, `states` (a cluster matches when it matches every
 * filter given, and a filter when it holds any of the filter's values), MaxResults 1-25, an opaque
 * NextToken of at most 256 characters. DELETED clusters are listed until AWS forgets them; here,
 * until the record is removed.
 */
import { AwsError, validationError } from '../aws-error';
import { CLOUDHSM_V2, type JsonObject, type OperationContext, type StandInModule } from '../operation-registry';
import { CLUSTER_STATES, clustersOf, toCluster, type CloudHsmClusterRecord } from './cluster-record';

const FILTER_KEYS = ['clusterIds', 'vpcIds', 'states'] as const;
const MAX_RESULTS = 25;
/** What a response holds when MaxResults is absent. */
const DEFAULT_PAGE_SIZE = 25;

const invalidRequest = (message: string) => new AwsError('CloudHsmInvalidRequestException', message);

export function describeClusters(input: JsonObject, context: OperationContext): JsonObject {
  const filters = parseFilters(input.Filters);
  const pageSize = parseMaxResults(input.MaxResults);
  const matching = clustersOf(context.state)
    .values()
    // In creation order (the collection's order): pages stay stable while clusters are added.
    .filter((cluster) => matches(cluster, filters));
  const start = startIndex(input.NextToken, matching);
  const page = matching.slice(start, start + pageSize);
  const next = matching[start + pageSize];
  return { Clusters: page.map(toCluster), NextToken: next ? encodeToken(next.clusterId) : undefined };
}

function parseFilters(value: unknown): Partial<Record<(typeof FILTER_KEYS)[number], string[]>> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw validationError('Filters', value, 'Member must be a map of strings to lists of strings');
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > 30) throw validationError('Filters', value, 'Member must have length less than or equal to 30');
  const filters: Partial<Record<(typeof FILTER_KEYS)[number], string[]>> = {};
  for (const [key, values] of entries) {
    if (!/^[a-zA-Z0-9_-]+$/.test(key)) throw validationError('Filters', key, 'Map keys must satisfy constraint: [Member must satisfy regular expression pattern: [a-zA-Z0-9_-]+]');
    if (!Array.isArray(values) || values.some((v) => typeof v !== 'string')) throw validationError('Filters', values, 'Map value must be a list of strings');
    if (!(FILTER_KEYS as readonly string[]).includes(key)) throw invalidRequest(`Invalid filter key: ${key}. Valid filter keys are: ${FILTER_KEYS.join(', ')}.`);
    if (key === 'states') {
      const unknown = (values as string[]).find((state) => !(CLUSTER_STATES as readonly string[]).includes(state));
      if (unknown !== undefined) throw invalidRequest(`Invalid value for the states filter: ${unknown}. Valid values are: ${CLUSTER_STATES.join(', ')}.`);
    }
    filters[key as (typeof FILTER_KEYS)[number]] = values as string[];
  }
  return filters;
}

function parseMaxResults(value: unknown): number {
  if (value === undefined || value === null) return DEFAULT_PAGE_SIZE;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw validationError('MaxResults', value, 'Member must be an integer');
  if (value < 1) throw validationError('MaxResults', value, 'Member must have value greater than or equal to 1');
  if (value > MAX_RESULTS) throw validationError('MaxResults', value, `Member must have value less than or equal to ${MAX_RESULTS}`);
  return value;
}

function matches(cluster: CloudHsmClusterRecord, filters: Partial<Record<(typeof FILTER_KEYS)[number], string[]>>): boolean {
  if (filters.clusterIds && !filters.clusterIds.includes(cluster.clusterId)) return false;
  if (filters.vpcIds && !filters.vpcIds.includes(cluster.vpcId)) return false;
  if (filters.states && !filters.states.includes(cluster.state)) return false;
  return true;
}

const TOKEN_PREFIX = 'clusters:';

function encodeToken(clusterId: string): string {
  return Buffer.from(`${TOKEN_PREFIX}${clusterId}`).toString('base64');
}

function startIndex(token: unknown, clusters: readonly CloudHsmClusterRecord[]): number {
  if (token === undefined || token === null || token === '') return 0;
  if (typeof token !== 'string' || token.length > 256) throw validationError('NextToken', token, 'Member must have length less than or equal to 256');
  const decoded = Buffer.from(token, 'base64').toString('utf8');
  const index = decoded.startsWith(TOKEN_PREFIX) ? clusters.findIndex((cluster) => cluster.clusterId === decoded.slice(TOKEN_PREFIX.length)) : -1;
  if (index < 0) throw invalidRequest('The NextToken is not valid.');
  return index;
}

export const cloudHsmOperations: StandInModule = {
  name: 'cloudhsm-v2',
  register(registry) {
    registry.json(CLOUDHSM_V2, 'DescribeClusters', describeClusters);
  },
};
