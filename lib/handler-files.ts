/**
 * The runtime files the CDK app bundles, by path: every route's handler and the two entries of the
 * proxy image. `cdk synth` checks them up front so that a missing one is named, with all the others.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { routes } from '../lambdas/contract/routes';
import { IMAGE_ENTRIES } from './constructs/proxy-image';
import { PROJECT_ROOT } from './private/project';

/** Every entry file the app needs, relative to the repository root, with what needs it. */
export function entryFiles(): ReadonlyArray<{ readonly file: string; readonly usedBy: string }> {
  return [
    ...routes.map((r) => ({ file: r.handler, usedBy: `route ${r.operation} (${r.method} ${r.path})` })),
    { file: IMAGE_ENTRIES.xksProxy.file, usedBy: 'the XKS proxy image (ALB entry)' },
    { file: IMAGE_ENTRIES.hsmAgent.file, usedBy: 'the XKS proxy image (HSM agent entry)' },
  ];
}

/** The entry files that do not exist under `root`. */
export function missingEntryFiles(root: string = PROJECT_ROOT): ReadonlyArray<{ readonly file: string; readonly usedBy: string }> {
  return entryFiles().filter((e) => !fs.existsSync(path.join(root, e.file)));
}
