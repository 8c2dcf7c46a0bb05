import { SetMetadata } from '@nestjs/common';

export const ALLOW_QUERY_TOKEN = 'herald:allow-query-token';

/**
 * Lets a route take its token as `?token=` when there is no Authorization header: browsers'
 * EventSource cannot set headers. The token is never logged.
 */
export const AllowQueryToken = () => SetMetadata(ALLOW_QUERY_TOKEN, true);
