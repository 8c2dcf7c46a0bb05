import { z } from 'zod';

/**
 * A zod schema of libs/contracts as JSON Schema (draft 2020-12, which OpenAPI 3.1 and
 * AsyncAPI 3 accept): the shape a client sends or receives, i.e. before transforms and
 * with defaults optional.
 */
export function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', reused: 'inline' }) as Record<
    string,
    unknown
  >;
  return rest;
}
