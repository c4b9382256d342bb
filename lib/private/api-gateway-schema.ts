/**
 * Turns the route table's request schemas (JSON Schema as Ajv reads it) into API Gateway models,
 * whose validator speaks draft-04. The keywords API Gateway understands are carried over; the few
 * that changed meaning after draft-04 are translated; annotations it has no use for are dropped, so
 * the gateway is never stricter than the runtime's Ajv validation.
 */
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type { JsonSchema } from '../../lambdas/contract/json-schema';

type Draft4 = { -readonly [K in keyof apigateway.JsonSchema]: apigateway.JsonSchema[K] };

const SCALAR_KEYWORDS = [
  'title', 'description', 'enum', 'default', 'format', 'multipleOf', 'maximum', 'minimum', 'maxLength', 'minLength',
  'pattern', 'maxItems', 'minItems', 'uniqueItems', 'maxProperties', 'minProperties',
] as const;

const TYPES: Record<string, apigateway.JsonSchemaType> = {
  null: apigateway.JsonSchemaType.NULL,
  boolean: apigateway.JsonSchemaType.BOOLEAN,
  object: apigateway.JsonSchemaType.OBJECT,
  array: apigateway.JsonSchemaType.ARRAY,
  number: apigateway.JsonSchemaType.NUMBER,
  integer: apigateway.JsonSchemaType.INTEGER,
  string: apigateway.JsonSchemaType.STRING,
};

/** The draft-04 model of a request schema. Throws, naming the keyword, for what cannot be expressed. */
export function toApiGatewaySchema(schema: JsonSchema, where = '#'): apigateway.JsonSchema {
  const out: Draft4 = {};
  for (const [keyword, value] of Object.entries(schema)) {
    const at = `${where}/${keyword}`;
    switch (keyword) {
      case 'type':
        out.type = Array.isArray(value) ? value.map((t) => typeOf(t, at)) : typeOf(value, at);
        break;
      case 'const':
        out.enum = [value];
        break;
      case 'exclusiveMinimum':
        // draft-06+: a number; draft-04: a flag on `minimum`.
        if (typeof value === 'number') Object.assign(out, { minimum: value, exclusiveMinimum: true });
        else out.exclusiveMinimum = value as boolean;
        break;
      case 'exclusiveMaximum':
        if (typeof value === 'number') Object.assign(out, { maximum: value, exclusiveMaximum: true });
        else out.exclusiveMaximum = value as boolean;
        break;
      case 'properties':
      case 'patternProperties':
        out[keyword] = Object.fromEntries(Object.entries(value as Record<string, JsonSchema>).map(([k, v]) => [k, toApiGatewaySchema(v, `${at}/${k}`)]));
        break;
      case 'items':
        out.items = Array.isArray(value) ? value.map((v, i) => toApiGatewaySchema(v as JsonSchema, `${at}/${i}`)) : toApiGatewaySchema(value as JsonSchema, at);
        break;
      case 'additionalProperties':
      case 'additionalItems':
        out[keyword] = typeof value === 'boolean' ? value : toApiGatewaySchema(value as JsonSchema, at);
        break;
      case 'allOf':
      case 'anyOf':
      case 'oneOf':
        out[keyword] = (value as JsonSchema[]).map((v, i) => toApiGatewaySchema(v, `${at}/${i}`));
        break;
      case 'not':
        out.not = toApiGatewaySchema(value as JsonSchema, at);
        break;
      case 'required':
        // draft-04's meta-schema wants at least one name; an empty list requires nothing anyway.
        if ((value as string[]).length > 0) out.required = value as string[];
        break;
      case '$schema':
      case '$id':
      case '$comment':
      case 'examples':
      case 'deprecated':
      case 'readOnly':
      case 'writeOnly':
        break; // annotations: no effect on validation
      default:
        if ((SCALAR_KEYWORDS as readonly string[]).includes(keyword)) {
          (out as Record<string, unknown>)[keyword] = value;
        } else {
          throw new Error(`Request schema keyword "${keyword}" at ${at} has no API Gateway (draft-04) equivalent; express it with draft-04 keywords in lambdas/contract/schemas.ts.`);
        }
    }
  }
  if (where === '#') out.schema = apigateway.JsonSchemaVersion.DRAFT4;
  return out;
}

function typeOf(value: unknown, at: string): apigateway.JsonSchemaType {
  const type = typeof value === 'string' ? TYPES[value] : undefined;
  if (!type) throw new Error(`Unknown JSON schema type ${JSON.stringify(value)} at ${at}.`);
  return type;
}
