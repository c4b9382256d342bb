/**
 * Field checks for JSON 1.1 inputs in the wording of AWS's request validation (the SDK checks
 * none of these constraints on the client side, so the server must). A value of the wrong JSON
 * type is a SerializationException, as AWS answers it.
 */
import { AwsError, validationError } from './aws-error';
import type { JsonObject } from './operation-registry';

export interface StringRules {
  readonly min?: number;
  readonly max?: number;
  /** Checked after the length. */
  readonly pattern?: RegExp;
}

const serialization = (field: string): AwsError => new AwsError('SerializationException', `Unexpected value type for field ${field}`);

export function optionalString(input: JsonObject, field: string, rules: StringRules = {}): string | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw serialization(field);
  if (rules.min !== undefined && value.length < rules.min) throw validationError(field, value, `Member must have length greater than or equal to ${rules.min}`);
  if (rules.max !== undefined && value.length > rules.max) throw validationError(field, value, `Member must have length less than or equal to ${rules.max}`);
  if (rules.pattern && !rules.pattern.test(value)) throw validationError(field, value, `Member must satisfy regular expression pattern: ${rules.pattern.source}`);
  return value;
}

export function requiredString(input: JsonObject, field: string, rules: StringRules = {}): string {
  const value = optionalString(input, field, rules);
  if (value === undefined) throw validationError(field, undefined, 'Member must not be null');
  return value;
}

export function optionalEnum<T extends string>(input: JsonObject, field: string, values: readonly T[]): T | undefined {
  const value = optionalString(input, field);
  if (value === undefined) return undefined;
  if (!(values as readonly string[]).includes(value)) throw validationError(field, value, `Member must satisfy enum value set: [${values.join(', ')}]`);
  return value as T;
}

export function optionalInteger(input: JsonObject, field: string, rules: { readonly min?: number; readonly max?: number } = {}): number | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw serialization(field);
  if (rules.min !== undefined && value < rules.min) throw validationError(field, value, `Member must have value greater than or equal to ${rules.min}`);
  if (rules.max !== undefined && value > rules.max) throw validationError(field, value, `Member must have value less than or equal to ${rules.max}`);
  return value;
}

export function optionalBoolean(input: JsonObject, field: string): boolean | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw serialization(field);
  return value;
}

export function optionalObject(input: JsonObject, field: string): JsonObject | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw serialization(field);
  return value as JsonObject;
}

export function optionalList(input: JsonObject, field: string): unknown[] | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw serialization(field);
  return value;
}

/** A blob member (base64 on the wire), with AWS's byte-length limits. */
export function optionalBlob(input: JsonObject, field: string, rules: { readonly min?: number; readonly max?: number } = {}): Buffer | undefined {
  const value = optionalString(input, field);
  if (value === undefined) return undefined;
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0) throw new AwsError('SerializationException', `Invalid base64 in field ${field}`);
  const bytes = Buffer.from(value, 'base64');
  const shown = 'java.nio.HeapByteBuffer[pos=0 lim=' + bytes.length + ' cap=' + bytes.length + ']';
  if (rules.min !== undefined && bytes.length < rules.min) throw validationError(field, shown, `Member must have length greater than or equal to ${rules.min}`);
  if (rules.max !== undefined && bytes.length > rules.max) throw validationError(field, shown, `Member must have length less than or equal to ${rules.max}`);
  return bytes;
}

export function requiredBlob(input: JsonObject, field: string, rules: { readonly min?: number; readonly max?: number } = {}): Buffer {
  const value = optionalBlob(input, field, rules);
  if (value === undefined) throw validationError(field, undefined, 'Member must not be null');
  return value;
}
