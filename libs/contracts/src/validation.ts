import { z } from 'zod';
import { ErrorCode, HeraldError } from './herald-error';

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** True when a decoded payload carries a key that could pollute prototypes. */
export function hasForbiddenKey(value: unknown, depth = 0): boolean {
  if (depth > 8 || value === null || typeof value !== 'object') return false;
  for (const key of Object.keys(value)) {
    if (FORBIDDEN_KEYS.has(key)) return true;
    if (hasForbiddenKey((value as Record<string, unknown>)[key], depth + 1)) return true;
  }
  return false;
}

function describe(issue: z.core.$ZodIssue): string {
  const path = issue.path.length ? issue.path.map(String).join('.') : 'payload';
  return `${path}: ${issue.message}`;
}

/**
 * Validates a client payload: on failure, an INVALID_INPUT error whose message names the
 * offending fields. Never throws anything else.
 */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  if (hasForbiddenKey(value)) {
    throw new HeraldError(ErrorCode.INVALID_INPUT, 'payload: forbidden key (__proto__, constructor or prototype)');
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    const message = result.error.issues.slice(0, 5).map(describe).join('; ');
    throw new HeraldError(ErrorCode.INVALID_INPUT, message || 'payload: invalid');
  }
  return result.data;
}
