import { ErrorCode, HeraldError, isUuid } from '@herald/contracts';

/** A resource id from the URL: not a UUID means no such resource (404), like any unknown id. */
export function uuidParam(value: string): string {
  if (!isUuid(value)) throw new HeraldError(ErrorCode.NOT_FOUND, 'Not found.');
  return value.toLowerCase();
}

/**
 * Adds a URL parameter to a JSON body that is given to a socket-event schema. A body that is
 * not an object is left as is for the schema to refuse; a body that names the field with
 * another value is INVALID_INPUT.
 */
export function withParam(body: unknown, field: string, value: string): unknown {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return body;
  const given = (body as Record<string, unknown>)[field];
  if (Object.hasOwn(body, field) && (typeof given !== 'string' || given.toLowerCase() !== value.toLowerCase())) {
    throw new HeraldError(ErrorCode.INVALID_INPUT, `${field}: does not match the URL`);
  }
  return { ...body, [field]: value };
}
