// A React page on the AI SDK's `useChat`, talking to Herald's `/v1/ai-sdk/chat` (PROTOCOL.md §9)
// from another origin (the gateway's CORS_ORIGINS must list this page's). What it shows:
// - the answer streams in with its reasoning, tool calls and sources (`DefaultChatTransport`);
// - a reload mid-run picks the stream up again from its start (`useChat({ resume: true })`
//   asks `GET /v1/ai-sdk/chat/:id/stream` on mount) after the stored history is loaded;
// - Stop cancels the run on the server (`POST /v1/ai-sdk/chat/:id/stop`): the stream ends
//   with `abort` and nothing is stored.
// Settings come from the address: `?chat=<uuid>` (added on first load, so a reload finds the
// same chat) and `#gateway=<url>&token=<jwt>` (a fragment: never sent to any server).
import { useChat } from '@ai-sdk/react';
import { DefaultChatTransport, type UIMessage } from 'ai';
import { StrictMode, useMemo, useState, useEffect, type FormEvent } from 'react';
import { createRoot } from 'react-dom/client';

interface Settings {
  gateway: string;
  token: string;
  chatId: string;
}

function settingsFromLocation(): Settings {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const query = new URLSearchParams(location.search);
  let chatId = query.get('chat');
  if (!chatId) {
    chatId = crypto.randomUUID();
    query.set('chat', chatId);
    history.replaceState(null, '', `${location.pathname}?${query.toString()}${location.hash}`);
  }
  return { gateway: (fragment.get('gateway') ?? 'http://localhost:3000').replace(/\/+$/, ''), token: fragment.get('token') ?? '', chatId };
}

interface StoredMessage {
  id: string;
  role: 'user' | 'assistant';
  content: string;
}

/** The chat's stored messages as UI messages (a chat Herald has not seen yet: none). */
async function loadHistory({ gateway, token, chatId }: Settings): Promise<UIMessage[]> {
  const res = await fetch(`${gateway}/v1/conversations/${encodeURIComponent(chatId)}/messages?limit=50`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  if (res.status === 404) return [];
  if (!res.ok) throw new Error(`Herald answered ${res.status} for the chat's history`);
  const body = (await res.json()) as { messages: StoredMessage[] };
  return body.messages.map((m) => ({ id: m.id, role: m.role, parts: [{ type: 'text', text: m.content }] }));
}

function Part({ part }: { part: UIMessage['parts'][number] }) {
  switch (part.type) {
    case 'text':
      return <div className="text">{part.text}</div>;
    case 'reasoning':
      return <div className="reasoning">thinking: {part.text}</div>;
    case 'dynamic-tool':
      return (
        <div className="tool" data-state={part.state}>
          tool {part.toolName}: {part.state}
        </div>
      );
    case 'source-document':
      return <div className="source">source: {part.title}</div>;
    default:
      return null;
  }
}

function Chat({ settings, initial }: { settings: Settings; initial: UIMessage[] }) {
  const { gateway, token, chatId } = settings;
  const transport = useMemo(
    () => new DefaultChatTransport({ api: `${gateway}/v1/ai-sdk/chat`, headers: { Authorization: `Bearer ${token}` } }),
    [gateway, token],
  );
  const { messages, sendMessage, status, stop, error } = useChat({ id: chatId, messages: initial, transport, resume: true });
  const [input, setInput] = useState('');
  const busy = status === 'submitted' || status === 'streaming';

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const text = input.trim();
    if (!text || busy) return;
    setInput('');
    void sendMessage({ text });
  };
  // The server cancels the run (the stream then ends with `abort`); the local stop only
  // closes a stream the server could not be asked to end.
  const cancel = async () => {
    await fetch(`${gateway}/v1/ai-sdk/chat/${encodeURIComponent(chatId)}/stop`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}` },
    }).catch(() => undefined);
    await stop();
  };

  return (
    <main>
      <div id="messages">
        {messages.map((m) => (
          <div key={m.id} className={`msg ${m.role}`} data-role={m.role}>
            <div className="role">{m.role}</div>
            {m.parts.map((part, i) => (
              <Part key={i} part={part} />
            ))}
          </div>
        ))}
      </div>
      {error && <p className="error">{error.message}</p>}
      <p id="status" data-status={status}>
        {status}
      </p>
      <form onSubmit={submit}>
        <input id="input" aria-label="Message" value={input} onChange={(e) => setInput(e.target.value)} placeholder="Ask Herald…" />
        {busy ? (
          <button id="stop" type="button" onClick={() => void cancel()}>
            Stop
          </button>
        ) : (
          <button id="send" type="submit">
            Send
          </button>
        )}
      </form>
    </main>
  );
}

function App() {
  const settings = useMemo(settingsFromLocation, []);
  const [initial, setInitial] = useState<UIMessage[] | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  useEffect(() => {
    loadHistory(settings).then(setInitial, (e: unknown) => setFailure(e instanceof Error ? e.message : String(e)));
  }, [settings]);
  if (!settings.token)
    return <p className="error">Open this page with #gateway=…&token=… (npm run example:use-chat prints the address).</p>;
  if (failure) return <p className="error">{failure}</p>;
  if (!initial) return <p>Loading…</p>;
  return <Chat settings={settings} initial={initial} />;
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
