import type { TokenChunk } from '../model-provider';
import { LocalEngine } from './local-engine';
import { FIGURE_CHOICES } from './sql-templates';
import { tokenize } from './tokenize';

const documents = [
  { id: 'a', title: 'Streams', content: 'Streams store messages. Each stored message gets a sequence number that only grows.' },
  { id: 'b', title: 'Consumers', content: 'Consumers read messages from a stream. Durable consumers remember their position.' },
];
const signal = () => new AbortController().signal;

describe('tokenize', () => {
  it.each(['Hello world.', '  leading and trailing  ', 'one\n\ntwo\tthree', '', 'x', 'Sources: [1] A; [2] B'])(
    'tokens of %j concatenate to it',
    (text) => {
      expect(tokenize(text).join('')).toBe(text);
    },
  );
});

describe('LocalEngine', () => {
  it('streams deltas that concatenate exactly to the final text', async () => {
    const deltas: TokenChunk[] = [];
    const engine = new LocalEngine();
    const result = await engine.complete({
      messages: [{ role: 'user', content: 'How do consumers read messages?' }],
      documents,
      signal: signal(),
      onToken: (chunk) => {
        deltas.push(chunk);
      },
    });
    expect(deltas.length).toBeGreaterThan(5);
    expect(deltas.map((d) => d.delta).join('')).toBe(result.text);
    expect(deltas.map((d) => d.index)).toEqual(deltas.map((_, i) => i));
    expect(deltas[deltas.length - 1].fraction).toBe(1);
    expect(result.text).toContain('[2]');
    expect(result.usage.completionTokens).toBe(result.text.split(/\s+/).filter(Boolean).length);
    expect(result.usage.promptTokens).toBeGreaterThan(10);
  });

  it('stops streaming promptly when the signal aborts', async () => {
    const engine = new LocalEngine({ tokenDelayMs: 20 });
    const controller = new AbortController();
    const deltas: string[] = [];
    const started = Date.now();
    setTimeout(() => controller.abort(new Error('cancelled')), 110);
    await expect(
      engine.complete({
        messages: [{ role: 'user', content: 'How do consumers read messages from a stream?' }],
        documents,
        signal: controller.signal,
        onToken: ({ delta }) => {
          deltas.push(delta);
        },
      }),
    ).rejects.toThrow('cancelled');
    expect(Date.now() - started).toBeLessThan(200);
    expect(deltas.length).toBeGreaterThan(0);
    expect(deltas.length).toBeLessThan(10);
    const countAtAbort = deltas.length;
    await new Promise((r) => setTimeout(r, 60));
    expect(deltas.length).toBe(countAtAbort);
  });

  it('rejects at once when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('gone'));
    await expect(new LocalEngine().complete({ messages: [{ role: 'user', content: 'hi' }], signal: controller.signal })).rejects.toThrow(
      'gone',
    );
  });

  it('answers small talk with a canned reply that varies with the conversation', async () => {
    const engine = new LocalEngine();
    const first = await engine.complete({ messages: [{ role: 'user', content: 'hi' }], signal: signal() });
    const second = await engine.complete({
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: first.text },
        { role: 'user', content: 'hi' },
      ],
      signal: signal(),
    });
    expect(first.text).toMatch(/hi|hello|hey/i);
    expect(second.text).not.toBe(first.text);
    expect(first.text).not.toContain('[1]');
  });

  it('says so when a question has no documents', async () => {
    const result = await new LocalEngine().complete({
      messages: [{ role: 'user', content: 'What is the airspeed of a swallow?' }],
      signal: signal(),
    });
    expect(result.text).toMatch(/couldn't find|found nothing|Nothing in the knowledge base/);
  });

  it('classifies intent with the classifier', async () => {
    const engine = new LocalEngine();
    await expect(engine.classifyIntent({ text: 'thanks!', signal: signal() })).resolves.toMatchObject({ intent: 'chitchat' });
    await expect(engine.classifyIntent({ text: 'What is NATS?', signal: signal() })).resolves.toMatchObject({ intent: 'question' });
  });

  it('answers "Hi there! How are you today?" as small talk, not as a question to look up', async () => {
    const engine = new LocalEngine();
    const text = 'Hi there! How are you today?';
    await expect(engine.classifyIntent({ text, signal: signal() })).resolves.toMatchObject({ intent: 'chitchat' });
    const reply = await engine.complete({ messages: [{ role: 'user', content: text }], signal: signal() });
    expect(reply.text).toMatch(/doing well|All good here|Great, thank you/);
    expect(reply.text).not.toMatch(/couldn't find|found nothing|Nothing in the knowledge base/);
  });

  it('asks which figure for "Show me the numbers", offering what the dataset can answer', async () => {
    const engine = new LocalEngine();
    await expect(engine.classifyIntent({ text: 'Show me the numbers', signal: signal() })).resolves.toMatchObject({ intent: 'data' });
    const sql = await engine.generateSql({ question: 'Show me the numbers', schema: '', signal: signal() });
    expect(sql.sql).toBeUndefined();
    expect(sql.clarification?.choices).toEqual([...FIGURE_CHOICES]);
    const answered = await engine.generateSql({ question: 'Show me the numbers (Orders by month)', schema: '', signal: signal() });
    expect(answered).toMatchObject({
      title: 'Orders by month',
      sql: expect.stringMatching(/^SELECT to_char\(o\.ordered_on, 'YYYY-MM'\) AS month, count\(\*\) AS value/),
    });
  });

  it('answers "How big are the demo tables?" with a query counting the rows of each demo table', async () => {
    const engine = new LocalEngine();
    const text = 'How big are the demo tables?';
    await expect(engine.classifyIntent({ text, signal: signal() })).resolves.toMatchObject({ intent: 'data' });
    const sql = await engine.generateSql({ question: text, schema: '', signal: signal() });
    expect(sql.clarification).toBeUndefined();
    expect(sql.title).toBe('Rows per table of the demo dataset');
    for (const table of ['customers', 'products', 'orders'])
      expect(sql.sql).toMatch(new RegExp(`count\\(\\*\\)( AS row_count)? FROM demo\\.${table}\\b`));
  });
});
