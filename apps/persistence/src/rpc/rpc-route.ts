import type { z } from 'zod';

/** One request/reply operation: the schema its request must satisfy and what answers it. */
export interface RpcRoute {
  schema: z.ZodType;
  handle(input: unknown): Promise<unknown>;
}

/** Pairs a schema with a handler typed by it (serveRpc validates with the same schema first). */
export function rpcRoute<S extends z.ZodType, R>(schema: S, handle: (input: z.infer<S>) => Promise<R>): RpcRoute {
  return { schema, handle: (input) => handle(input as z.infer<S>) };
}
