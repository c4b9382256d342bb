/**
 * Limit/Marker paging as KMS does it: `Truncated` always present, `NextMarker` only when
 * truncated. The marker is opaque to callers; here it carries the sort key of the last item
 * returned, so that items created or deleted between pages neither repeat nor shift the rest.
 */
import { AwsError } from '../aws-error';
import { optionalInteger, optionalString } from '../input';
import type { JsonObject } from '../operation-registry';

export interface Page<T> {
  readonly items: T[];
  readonly nextMarker?: string;
}

export function pageOf<T>(input: JsonObject, items: readonly T[], sortKey: (item: T) => string, limits: { readonly max: number; readonly default: number }): Page<T> {
  const limit = optionalInteger(input, 'Limit', { min: 1, max: limits.max }) ?? limits.default;
  const marker = optionalString(input, 'Marker', { min: 1, max: 1024, pattern: /^[\u0020-\u00FF]*$/ });
  let after: string | undefined;
  if (marker !== undefined) {
    try {
      const decoded = Buffer.from(marker, 'base64url').toString('utf8');
      if (!decoded.startsWith('m1:')) throw new Error('not ours');
      after = decoded.slice(3);
    } catch {
      throw new AwsError('InvalidMarkerException', 'Invalid marker');
    }
  }
  const sorted = [...items].map((item) => ({ item, key: sortKey(item) })).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const remaining = after === undefined ? sorted : sorted.filter((entry) => entry.key > (after as string));
  const pageItems = remaining.slice(0, limit);
  const truncated = remaining.length > limit;
  return {
    items: pageItems.map((entry) => entry.item),
    nextMarker: truncated ? Buffer.from(`m1:${pageItems[pageItems.length - 1].key}`).toString('base64url') : undefined,
  };
}

/** The response fields of a page: `{ [field]: items, NextMarker?, Truncated }`. */
export function pageFields(field: string, page: Page<unknown>, items: unknown[]): JsonObject {
  return page.nextMarker === undefined ? { [field]: items, Truncated: false } : { [field]: items, NextMarker: page.nextMarker, Truncated: true };
}
