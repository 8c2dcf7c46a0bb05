/** The gateway's own injection tokens; the shared ones (CONFIG, NATS, …) come from @herald/messaging. */
export const JETSTREAM = Symbol('JETSTREAM');
export const JETSTREAM_MANAGER = Symbol('JETSTREAM_MANAGER');
