#!/usr/bin/env node
/**
 * The CDK app: parameters from cdk.json context (overridable with `-c name=value`), one stack, and
 * cdk-nag's AwsSolutions checks over everything. Wiring only; see lib/.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { missingEntryFiles } from '../lib/handler-files';
import { KeyManagerStack } from '../lib/key-manager-stack';
import { parametersFromContext, ParameterError } from '../lib/parameters';

const app = new App();

const bundlingStacks: unknown = app.node.tryGetContext('aws:cdk:bundling-stacks');
const bundling = !(Array.isArray(bundlingStacks) && bundlingStacks.length === 0);
const missing = bundling ? missingEntryFiles() : [];
if (missing.length > 0) {
  const list = missing.map((m) => `  - ${m.file} (${m.usedBy})`).join('\n');
  console.error(`Cannot synthesize: ${missing.length} handler file(s) do not exist yet:\n${list}\nCreate each (exporting \`handler\`) or fix its path in lambdas/contract/routes.ts.`);
  process.exit(1);
}

try {
  new KeyManagerStack(app, 'XksKeyManager', {
    parameters: parametersFromContext(app.node),
    description: 'XKS key manager: CCKM-shaped control plane and XKS proxy for AWS KMS external key stores',
  });
} catch (error) {
  if (!(error instanceof ParameterError)) throw error;
  console.error(`Invalid parameter: ${error.message}`);
  process.exit(1);
}
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
