/**
 * Groups the route table by area (key stores, HYOK keys, HSM, …) so that each area's functions,
 * roles, log groups, methods and models live in a nested stack of their own: one stack would pass
 * CloudFormation's 500 resources at about 70 routes (each route makes about 7), and an area grows
 * by a handful of routes at a time. A new route joins the area its path names; a new top-level
 * path makes a new area (and nested stack) by itself.
 */
import type { RouteDefinition } from '../../lambdas/contract/routes';

/** Path segments that say nothing about the area (every route has them). */
const COMMON_SEGMENTS = new Set(['v1', 'cckm', 'aws']);

/** First significant path segment → area, where two segments belong together. */
const AREA_OF_SEGMENT: Readonly<Record<string, string>> = {
  kms: 'AccountContainers',
  accounts: 'AccountContainers',
  'custom-key-stores': 'KeyStores',
  keys: 'AwsKeys',
  'create-hyok-key': 'AwsKeys',
  hsm: 'Hsm',
  virtual: 'VirtualKeys',
};

/** Most routes one area may hold: about 7 resources each stays under half of CloudFormation's 500. */
export const MAX_ROUTES_PER_AREA = 35;

export interface RouteArea {
  /** PascalCase; names the nested stack. */
  readonly name: string;
  readonly routes: readonly RouteDefinition[];
}

/** The area of one route, from its path. */
export function areaOf(route: RouteDefinition): string {
  // Both kinds of synchronization job (AWS keys, key stores) share one area, whatever path they are under.
  if (route.path.split('/').includes('synchronization-jobs')) return 'SynchronizationJobs';
  const segment = route.path.split('/').find((s) => s !== '' && !COMMON_SEGMENTS.has(s));
  if (!segment || segment.startsWith('{')) throw new Error(`Route ${route.operation}: path ${route.path} has no segment that names its area.`);
  return AREA_OF_SEGMENT[segment] ?? segment.split(/[^A-Za-z0-9]+/).filter(Boolean).map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
}

/** The routes by area, in the route table's order; throws when an area outgrows MAX_ROUTES_PER_AREA. */
export function routeAreas(routes: readonly RouteDefinition[]): RouteArea[] {
  const byArea = new Map<string, RouteDefinition[]>();
  for (const route of routes) {
    const name = areaOf(route);
    byArea.set(name, [...(byArea.get(name) ?? []), route]);
  }
  for (const [name, members] of byArea) {
    if (members.length > MAX_ROUTES_PER_AREA) {
      throw new Error(`Route area ${name} has ${members.length} routes, more than ${MAX_ROUTES_PER_AREA}: split it in lib/private/route-areas.ts (AREA_OF_SEGMENT) so that its nested stack stays well inside CloudFormation's 500 resources.`);
    }
  }
  return [...byArea].map(([name, members]) => ({ name, routes: members }));
}
