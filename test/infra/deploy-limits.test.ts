/**
 * Deploy-time rules that can be checked offline, for every synthesized template (the top-level
 * stack and each nested stack) in both connectivity options:
 * - CloudFormation's quotas: 500 resources, 1 MB of template (the S3-hosted maximum), 200
 *   parameters and 200 outputs per template;
 * - IAM's size quotas: 10,240 characters of inline policies per role, 6,144 per managed policy,
 *   2,048 per trust policy (whitespace not counted), with every CloudFormation intrinsic counted as
 *   the 128 characters of a long ARN (longer than any ARN or name this stack references);
 * - API Gateway's request models: JSON Schema draft 4, the only draft API Gateway validates with.
 */
import { routes } from '../../lambdas/contract/routes';
import { MAX_ROUTES_PER_AREA, routeAreas } from '../../lib/private/route-areas';
import { resourcesOfType, synthesizeApp, type SynthesizedApp } from './fixtures';

const CONFIGURATIONS: ReadonlyArray<[string, () => SynthesizedApp]> = [
  ['VPC_ENDPOINT_SERVICE', () => synthesizeApp()],
  ['PUBLIC_ENDPOINT', () => synthesizeApp({ xksConnectivity: 'PUBLIC_ENDPOINT' })],
];

const CLOUDFORMATION = { resources: 500, bytes: 1_000_000, parameters: 200, outputs: 200 } as const;
const IAM = { inlinePerRole: 10_240, managedPolicy: 6_144, trustPolicy: 2_048 } as const;
/** What one intrinsic (`Ref`, `Fn::GetAtt`, `Fn::ImportValue`, …) is counted as once CloudFormation resolves it. */
const RESOLVED_INTRINSIC_LENGTH = 128;

interface TemplateJson {
  Resources: Record<string, { Type: string; Properties?: Record<string, any> }>;
  Parameters?: Record<string, unknown>;
  Outputs?: Record<string, unknown>;
}

/** `value` with each intrinsic function replaced by the string it could resolve to, at its longest. */
function resolvedForSize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(resolvedForSize);
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 1) {
    const [key, argument] = entries[0]!;
    if (key === 'Fn::Join') {
      const [separator, parts] = argument as [string, unknown[]];
      return parts.map((p) => { const r = resolvedForSize(p); return typeof r === 'string' ? r : JSON.stringify(r); }).join(separator);
    }
    if (key === 'Ref' || key.startsWith('Fn::')) return 'x'.repeat(RESOLVED_INTRINSIC_LENGTH);
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, resolvedForSize(v)]));
}

/** IAM counts a policy document's characters without whitespace. */
const policySize = (document: unknown): number => JSON.stringify(resolvedForSize(document)).replace(/\s/g, '').length;

describe.each(CONFIGURATIONS)('%s: every template within CloudFormation\'s quotas', (_name, synth) => {
  it('has at most 500 resources, 1 MB, 200 parameters and 200 outputs', () => {
    const figures = [...synth().templates].map(([stack, template]) => {
      const json = template.toJSON() as TemplateJson;
      return { stack, resources: Object.keys(json.Resources).length, bytes: Buffer.byteLength(JSON.stringify(json)), parameters: Object.keys(json.Parameters ?? {}).length, outputs: Object.keys(json.Outputs ?? {}).length };
    });
    expect(figures.length).toBeGreaterThan(1);
    const over = figures.filter((f) => f.resources > CLOUDFORMATION.resources || f.bytes > CLOUDFORMATION.bytes || f.parameters > CLOUDFORMATION.parameters || f.outputs > CLOUDFORMATION.outputs);
    expect(over).toEqual([]);
  });

  it('leaves room for growth: an area at its route cap would still fit in its nested stack', () => {
    const app = synth();
    const atCap = routeAreas(routes).map((area) => {
      const nested = app.stack.managementApi.areaStacks.get(area.name)!;
      const resources = Object.keys((app.templates.get(nested.node.path)!.toJSON() as TemplateJson).Resources).length;
      return { area: area.name, resourcesAtCap: Math.ceil((resources / area.routes.length) * MAX_ROUTES_PER_AREA) };
    });
    expect(atCap.filter((a) => a.resourcesAtCap > CLOUDFORMATION.resources)).toEqual([]);
    // The top-level stack holds one API resource per path segment and no per-route function.
    const topLevel = Object.keys((app.template.toJSON() as TemplateJson).Resources).length;
    expect(topLevel).toBeLessThan(CLOUDFORMATION.resources / 2);
  });

  it("keeps every role's inline policies, managed policy and trust policy under IAM's size quotas", () => {
    const over: Array<{ what: string; size: number; limit: number }> = [];
    const check = (what: string, size: number, limit: number) => {
      if (size > limit) over.push({ what, size, limit });
    };
    let roles = 0;
    for (const [stack, template] of synth().templates) {
      const json = template.toJSON() as TemplateJson;
      const inlinePerRole = new Map<string, number>();
      for (const [id, resource] of Object.entries(json.Resources)) {
        if (resource.Type === 'AWS::IAM::Role') {
          roles += 1;
          check(`trust policy of ${stack}/${id}`, policySize(resource.Properties!.AssumeRolePolicyDocument), IAM.trustPolicy);
          for (const p of (resource.Properties!.Policies ?? []) as Array<{ PolicyDocument: unknown }>) inlinePerRole.set(id, (inlinePerRole.get(id) ?? 0) + policySize(p.PolicyDocument));
        }
        if (resource.Type === 'AWS::IAM::Policy') {
          for (const role of (resource.Properties!.Roles ?? []) as Array<{ Ref: string }>) inlinePerRole.set(role.Ref, (inlinePerRole.get(role.Ref) ?? 0) + policySize(resource.Properties!.PolicyDocument));
        }
        if (resource.Type === 'AWS::IAM::ManagedPolicy') check(`managed policy ${stack}/${id}`, policySize(resource.Properties!.PolicyDocument), IAM.managedPolicy);
      }
      for (const [role, size] of inlinePerRole) check(`inline policies of ${stack}/${role}`, size, IAM.inlinePerRole);
    }
    expect(roles).toBeGreaterThan(routes.length);
    expect(over).toEqual([]);
  });
});

/** Draft-04 keywords (validation and annotations) that API Gateway's validator reads. */
const DRAFT4_KEYWORDS = new Set([
  '$schema', 'title', 'description', 'default', 'type', 'enum', 'format',
  'multipleOf', 'maximum', 'exclusiveMaximum', 'minimum', 'exclusiveMinimum',
  'maxLength', 'minLength', 'pattern',
  'items', 'additionalItems', 'maxItems', 'minItems', 'uniqueItems',
  'properties', 'patternProperties', 'additionalProperties', 'required', 'maxProperties', 'minProperties', 'dependencies',
  'allOf', 'anyOf', 'oneOf', 'not',
]);
const DRAFT4_TYPES = new Set(['null', 'boolean', 'object', 'array', 'number', 'integer', 'string']);
const DRAFT4_FORMATS = new Set(['date-time', 'email', 'hostname', 'ipv4', 'ipv6', 'uri']);

/** Where `schema` uses something draft 4 (as API Gateway validates it) does not have; empty when it is all draft 4. */
function nonDraft4(schema: unknown, at = '#'): string[] {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return [`${at}: a schema must be an object`];
  const problems: string[] = [];
  for (const [keyword, value] of Object.entries(schema as Record<string, unknown>)) {
    const where = `${at}/${keyword}`;
    if (!DRAFT4_KEYWORDS.has(keyword)) {
      problems.push(`${where}: not a draft-04 keyword`);
      continue;
    }
    switch (keyword) {
      case '$schema':
        if (at !== '#' || value !== 'http://json-schema.org/draft-04/schema#') problems.push(`${where}: only the root names draft-04`);
        break;
      case 'type':
        for (const t of ([] as unknown[]).concat(value)) if (!DRAFT4_TYPES.has(String(t))) problems.push(`${where}: unknown type ${JSON.stringify(t)}`);
        break;
      case 'exclusiveMaximum':
      case 'exclusiveMinimum':
      case 'uniqueItems':
        if (typeof value !== 'boolean') problems.push(`${where}: a boolean in draft-04`);
        break;
      case 'format':
        if (!DRAFT4_FORMATS.has(String(value))) problems.push(`${where}: format ${JSON.stringify(value)} is not one of draft-04's`);
        break;
      case 'pattern':
        try {
          new RegExp(String(value));
          if (/\(\?<[=!]|\\[pP]\{/.test(String(value))) problems.push(`${where}: lookbehind or Unicode property escapes differ between validators`);
        } catch {
          problems.push(`${where}: not a regular expression`);
        }
        break;
      case 'required':
        if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === 'string')) problems.push(`${where}: a non-empty array of names in draft-04`);
        break;
      case 'properties':
      case 'patternProperties':
        for (const [name, sub] of Object.entries(value as Record<string, unknown>)) problems.push(...nonDraft4(sub, `${where}/${name}`));
        break;
      case 'items':
        for (const [i, sub] of (Array.isArray(value) ? value : [value]).entries()) problems.push(...nonDraft4(sub, Array.isArray(value) ? `${where}/${i}` : where));
        break;
      case 'additionalProperties':
      case 'additionalItems':
        if (typeof value !== 'boolean') problems.push(...nonDraft4(value, where));
        break;
      case 'allOf':
      case 'anyOf':
      case 'oneOf':
        if (!Array.isArray(value) || value.length === 0) problems.push(`${where}: a non-empty array of schemas`);
        else value.forEach((sub, i) => problems.push(...nonDraft4(sub, `${where}/${i}`)));
        break;
      case 'not':
        problems.push(...nonDraft4(value, where));
        break;
      default:
        break;
    }
  }
  return problems;
}

describe('API Gateway request models', () => {
  it('use only JSON Schema draft-04 as API Gateway validates it, and name draft-04 at their root', () => {
    const models = resourcesOfType(synthesizeApp(), 'AWS::ApiGateway::Model');
    expect(models).toHaveLength(routes.filter((r) => r.requestSchema).length);
    for (const model of models) {
      expect({ model: model.Properties.Name, problems: nonDraft4(model.Properties.Schema) }).toEqual({ model: model.Properties.Name, problems: [] });
      expect(model.Properties.Schema.$schema).toBe('http://json-schema.org/draft-04/schema#');
      expect(model.Properties.ContentType).toBe('application/json');
    }
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['a draft-06 const', { type: 'object', properties: { a: { const: 1 } } }, /#\/properties\/a\/const: not a draft-04 keyword/],
    ['a numeric exclusiveMinimum', { type: 'integer', exclusiveMinimum: 0 }, /exclusiveMinimum: a boolean in draft-04/],
    ['a format draft-04 does not define', { type: 'string', format: 'uuid' }, /format "uuid" is not one of draft-04's/],
    ['an OpenAPI example', { type: 'string', example: 'x' }, /example: not a draft-04 keyword/],
    ['a nested $schema', { type: 'object', properties: { a: { $schema: 'http://json-schema.org/draft-04/schema#' } } }, /only the root names draft-04/],
  ])('the check itself finds %s', (_case, schema, problem) => {
    expect(nonDraft4(schema).join('\n')).toMatch(problem);
  });
});

