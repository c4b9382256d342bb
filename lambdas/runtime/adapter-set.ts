/**
 * Which adapter set a mode uses (see ports.ts for the pattern). The AWS set is built in; the local
 * set lives in local mode's home and is registered by the local runner and by tests
 * (lambdas/local/local-adapter-set.ts `useLocalAdapterSet`), so no Lambda bundle contains it.
 *
 * Registered sets are kept per process, not per copy of this module: a bundle carries its own copy,
 * and the bundle tests (test/bundles) register the local set from a separately built file before
 * they load a deployed bundle, which then runs on local mode's ports unchanged.
 */
import { ENV } from '../contract/env';
import { awsAdapterSet } from './aws-adapter-set';
import type { AdapterSettings, RuntimeMode } from './config';
import { type AdapterSet, lazily, type Makers, type Ports } from './ports';

const REGISTRY = Symbol.for('xks-key-manager.adapter-sets');
type Registry = Partial<Record<RuntimeMode, AdapterSet>>;
const registered: Registry = ((globalThis as { [REGISTRY]?: Registry })[REGISTRY] ??= {});

/** Makes `set` the adapter set of `mode` in this process. */
export function registerAdapterSet(mode: RuntimeMode, set: AdapterSet): void {
  registered[mode] = set;
}

/** The ports of `settings.mode`'s adapter set; `given` ports (tests) are used instead of the set's. */
export function portsFor(settings: AdapterSettings, given: Partial<Ports> = {}): Ports {
  return lazily(portMakersFor(settings, given));
}

/** How `settings.mode`'s adapter set builds each port, `given` ones taken as they are. */
export function portMakersFor(settings: AdapterSettings, given: Partial<Ports> = {}): Makers<Ports> {
  const set = settings.mode === 'aws' ? awsAdapterSet : registered[settings.mode];
  if (set === undefined) {
    throw new Error(
      `${ENV.mode}=${settings.mode}: this process has no ${settings.mode} adapter set (local mode runs through bin/local.ts, whose lambdas/local/local-adapter-set.ts registers it)`,
    );
  }
  const makers: Record<string, unknown> = { ...set(settings) };
  for (const [name, port] of Object.entries(given)) makers[name] = () => port;
  return makers as unknown as Makers<Ports>;
}
