/**
 * Fixtures of the infrastructure tests: the app as `cdk synth` builds it (parameters from cdk.json
 * plus overrides), with bundling skipped, synthesized once per configuration and per test file.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, NestedStack, Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { KeyManagerStack } from '../../lib/key-manager-stack';
import { parametersFromContext } from '../../lib/parameters';
import { PROJECT_ROOT } from '../../lib/private/project';

/** cdk.json's context: the defaults `npx cdk synth` runs with. */
export const CDK_JSON_CONTEXT: Record<string, unknown> = (JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;

/** Context that skips esbuild bundling in every stack (no handler is compiled in tests). */
export const SKIP_BUNDLING = { 'aws:cdk:bundling-stacks': [] } as const;

export interface SynthesizedApp {
  readonly stack: KeyManagerStack;
  /** The top-level stack's template. */
  readonly template: Template;
  /** The template of every stack, the top-level one and each nested stack, by stack path. */
  readonly templates: ReadonlyMap<string, Template>;
}

const cache = new Map<string, SynthesizedApp>();

/** The stack synthesized from cdk.json's context with `overrides` (as `-c` would give them); cached. */
export function synthesizeApp(overrides: Record<string, unknown> = {}): SynthesizedApp {
  const key = JSON.stringify(overrides);
  const cached = cache.get(key);
  if (cached) return cached;
  // CDK's built-in CloudFormation validation (WASM, seconds per synth) runs in `npx cdk synth`, not here.
  const app = new App({ context: { ...CDK_JSON_CONTEXT, ...SKIP_BUNDLING, ...overrides }, builtinCloudFormationValidation: false });
  // No CDK_DEFAULT_* here: the region comes from cdk.json, the account stays unresolved, as offline.
  const stack = new KeyManagerStack(app, 'XksKeyManager', { parameters: parametersFromContext(app.node, {}) });
  const synthesized = { stack, template: Template.fromStack(stack), templates: templatesOf(stack) };
  cache.set(key, synthesized);
  return synthesized;
}

/** The templates of `stack` and of every stack nested in it, by construct path. */
export function templatesOf(stack: Stack): Map<string, Template> {
  const stacks = [stack, ...stack.node.findAll().filter((c): c is NestedStack => c instanceof NestedStack)];
  return new Map(stacks.map((s) => [s.node.path, Template.fromStack(s)]));
}

/** The resources of `type` in every template of the app, by logical id (prefixed with the stack path when nested). */
export function resourcesOfType(app: SynthesizedApp, type: string): Array<{ readonly stack: string; readonly id: string; readonly Properties: Record<string, any> }> {
  return [...app.templates].flatMap(([stack, template]) =>
    Object.entries(template.findResources(type)).map(([id, r]) => ({ stack, id, Properties: (r as { Properties?: Record<string, any> }).Properties ?? {} })));
}

/** The template of the stack `construct` is in. */
export function templateOf(app: SynthesizedApp, construct: IConstruct): Template {
  const template = app.templates.get(Stack.of(construct).node.path);
  if (!template) throw new Error(`No template for ${construct.node.path}`);
  return template;
}

/** cdk-nag AwsSolutions findings that no suppression covers, as `rule at path` lines. */
export function unsuppressedNagFindings(stack: Stack): string[] {
  const report = new AwsSolutionsChecks(stack).validateScope(stack);
  return report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`));
}

/** A bare stack with a fixed environment and bundling skipped, for construct tests. */
export function testStack(context: Record<string, unknown> = SKIP_BUNDLING): Stack {
  const app = new App({ context, builtinCloudFormationValidation: false });
  return new Stack(app, 'Test', { env: { account: '111111111111', region: 'us-east-1' } });
}

/** Every IAM policy statement of the template, with the logical id of its policy. */
export interface PolicyStatement {
  readonly policy: string;
  readonly roles: unknown;
  readonly actions: string[];
  readonly resources: unknown[];
}

export function policyStatements(template: Template): PolicyStatement[] {
  const policies = template.findResources('AWS::IAM::Policy');
  return Object.entries(policies).flatMap(([id, resource]) => {
    const props = (resource as { Properties: { Roles: unknown; PolicyDocument: { Statement: Array<{ Action: string | string[]; Resource: unknown }> } } }).Properties;
    return props.PolicyDocument.Statement.map((s) => ({
      policy: id,
      roles: props.Roles,
      actions: ([] as string[]).concat(s.Action),
      resources: ([] as unknown[]).concat(s.Resource),
    }));
  });
}

/** The statements of the policies attached to `role`. */
export function statementsOf(stack: Stack, template: Template, role: import('aws-cdk-lib/aws-iam').Role): PolicyStatement[] {
  const roleId = stack.getLogicalId(role.node.defaultChild as import('aws-cdk-lib').CfnElement);
  return policyStatements(template).filter((s) => JSON.stringify(s.roles).includes(`"${roleId}"`));
}
