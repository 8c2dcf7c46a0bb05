import { analyzeIntent } from './intent-rules';

describe('analyzeIntent (local engine rules)', () => {
  it.each([
    ['hi', 'chitchat'],
    ['Hello there!', 'chitchat'],
    ['hey, how are you?', 'chitchat'],
    ['Good morning :)', 'chitchat'],
    ["what's up?", 'chitchat'],
    ['Thanks!', 'chitchat'],
    ['thank you so much, Herald', 'chitchat'],
    ['ok cool', 'chitchat'],
    ['Great, thanks!', 'chitchat'],
    ['that was helpful', 'chitchat'],
    ['bye', 'chitchat'],
    ['See you later!', 'chitchat'],
    ['who are you?', 'chitchat'],
    ['nice to meet you', 'chitchat'],
    ['yes please', 'chitchat'],
    ['👋', 'chitchat'],
    ['What is NATS JetStream?', 'question'],
    ['How do BullMQ retries work', 'question'],
    ['Explain the event id of the protocol', 'question'],
    ['jetstream retention policy', 'question'],
    ['Hi, what is NATS JetStream?', 'question'],
    ['Good evening! Can you tell me how the gateway authenticates sockets?', 'question'],
    ['Thanks! Also, how do retries work in BullMQ?', 'question'],
    ['ok, and what happens when a run is cancelled?', 'question'],
    ['Is it ok to use NATS for this?', 'question'],
    ['What is a good morning routine?', 'question'],
    ['Are events delivered in order?', 'question'],
    ['What was the revenue by region in 2025?', 'data'],
    ['Top 5 products by units sold', 'data'],
    ['hi! how many customers are in each segment?', 'data'],
    ['Write a report on sales by region', 'report'],
    ['Please give me a short report about our customers', 'report'],
  ] as const)('%s → %s', (text, intent) => {
    expect(analyzeIntent(text).intent).toBe(intent);
  });

  it('is more confident about pure small talk than about mixed messages', () => {
    expect(analyzeIntent('hello!').confidence).toBeGreaterThan(analyzeIntent('hello, what is NATS?').confidence);
  });

  it('gives a short reasoning and a confidence within 0..1', () => {
    for (const text of ['hi', 'What is NATS?', 'nats', '']) {
      const r = analyzeIntent(text);
      expect(r.confidence).toBeGreaterThan(0);
      expect(r.confidence).toBeLessThanOrEqual(1);
      expect(r.reasoning.length).toBeGreaterThan(10);
      expect(r.reasoning.length).toBeLessThan(200);
    }
  });

  it('names the kinds of small talk it found', () => {
    expect(analyzeIntent('hi, thanks!').social).toEqual(['greeting', 'thanks']);
    expect(analyzeIntent('What is NATS?').social).toEqual([]);
  });
});
