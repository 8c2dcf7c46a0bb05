/** How long the gateway waits on each backing service before answering UNAVAILABLE. */
export const TIMEOUTS = {
  persistenceMs: 3000,
  redisMs: 2000,
  natsPublishMs: 5000,
  natsFlushMs: 3000,
  jetstreamApiMs: 5000,
} as const;
