import type { Conversation, ListConversationsReply, ListMessagesReply, UsageReply } from '@herald/contracts';
import type { DevConfigReply } from '../../src/http/query.schemas';

/** An HTTP error with the gateway's `{ error: { code, message } }` (PROTOCOL.md §6). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function json<T>(res: Response): Promise<T> {
  const body = (await res.json().catch(() => ({}))) as { error?: { code: string; message: string } };
  if (!res.ok) throw new ApiError(res.status, body.error?.code ?? 'INTERNAL', body.error?.message ?? `The server answered ${res.status}.`);
  return body as T;
}

/** `GET /v1/dev/config`: whether this gateway signs development tokens (off in production, with DEV_TOKENS=false or JWKS). */
export async function fetchDevConfig(): Promise<DevConfigReply> {
  return json<DevConfigReply>(await fetch('/v1/dev/config'));
}

/** `POST /v1/dev/token`: asked only when `fetchDevConfig` said dev tokens are on (404 otherwise). */
export async function fetchDevToken(userId: string): Promise<string> {
  const res = await fetch('/v1/dev/token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId }),
  });
  return (await json<{ token: string }>(res)).token;
}

/** The REST part of the protocol the page reads: conversations and their stored messages. */
export class HeraldApi {
  constructor(private readonly token: () => Promise<string>) {}

  async conversations(): Promise<Conversation[]> {
    return (await this.get<ListConversationsReply>('/v1/conversations?limit=50')).conversations;
  }

  /** One page of the active branch's stored messages, oldest first: the newest ones, or those older than message `before`. */
  messages(conversationId: string, before?: string): Promise<ListMessagesReply> {
    const query = before ? `?before=${encodeURIComponent(before)}` : '';
    return this.get<ListMessagesReply>(`/v1/conversations/${encodeURIComponent(conversationId)}/messages${query}`);
  }

  /** `GET /v1/usage` for one UTC day: its totals and the daily quota. */
  usage(day: string): Promise<UsageReply> {
    return this.get<UsageReply>(`/v1/usage?from=${day}&to=${day}`);
  }

  /** `PUT /v1/conversations/:id/branch`: the branch through that message becomes the active one. */
  async switchBranch(conversationId: string, leafMessageId: string): Promise<{ leafMessageId: string }> {
    const res = await fetch(`/v1/conversations/${encodeURIComponent(conversationId)}/branch`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${await this.token()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ leafMessageId }),
    });
    return json<{ leafMessageId: string }>(res);
  }

  private async get<T>(path: string): Promise<T> {
    const res = await fetch(path, { headers: { authorization: `Bearer ${await this.token()}` } });
    return json<T>(res);
  }
}
