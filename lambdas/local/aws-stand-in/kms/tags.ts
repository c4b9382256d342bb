/** Tag checks shared by CreateKey and TagResource (TagException, with AWS's limits). */
import { AwsError, validationError } from '../aws-error';
import type { Tag } from './key-record';

export const MAX_TAGS_PER_KEY = 50;

export function parseTags(value: unknown): Tag[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new AwsError('SerializationException', 'Unexpected value type for field Tags');
  const tags: Tag[] = [];
  for (const entry of value) {
    if (typeof entry !== 'object' || entry === null) throw new AwsError('SerializationException', 'Unexpected value type for field Tags');
    const { TagKey, TagValue } = entry as Record<string, unknown>;
    if (typeof TagKey !== 'string') throw validationError('tags.member.tagKey', TagKey, 'Member must not be null');
    if (typeof TagValue !== 'string') throw validationError('tags.member.tagValue', TagValue, 'Member must not be null');
    if (TagKey.length < 1 || TagKey.length > 128) throw validationError('tags.member.tagKey', TagKey, 'Member must have length less than or equal to 128');
    if (TagValue.length > 256) throw validationError('tags.member.tagValue', TagValue, 'Member must have length less than or equal to 256');
    if (TagKey.toLowerCase().startsWith('aws:')) throw new AwsError('TagException', 'Tags beginning with aws: are reserved');
    if (tags.some((tag) => tag.TagKey === TagKey)) throw new AwsError('TagException', 'Duplicate tag keys');
    tags.push({ TagKey, TagValue });
  }
  return tags;
}

/** Adds or overwrites `added` on `existing`; TagException past the per-key limit. */
export function mergeTags(existing: readonly Tag[], added: readonly Tag[]): Tag[] {
  const merged = new Map(existing.map((tag) => [tag.TagKey, tag.TagValue]));
  for (const tag of added) merged.set(tag.TagKey, tag.TagValue);
  if (merged.size > MAX_TAGS_PER_KEY) throw new AwsError('LimitExceededException', `A KMS key can have at most ${MAX_TAGS_PER_KEY} tags`);
  return [...merged].map(([TagKey, TagValue]) => ({ TagKey, TagValue }));
}
