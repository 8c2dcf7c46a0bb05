import { composeAnswer, splitSentences } from './answer-composer';

const docs = [
  {
    id: 'kb-1',
    title: 'JetStream basics',
    content:
      'JetStream is the persistence layer of NATS. Streams store messages on disk or in memory. Consumers read messages from streams at their own pace.',
  },
  {
    id: 'kb-2',
    title: 'Retention',
    content: 'A stream keeps messages according to its retention policy. Limits retention drops the oldest messages first.',
  },
];

describe('composeAnswer', () => {
  it('is deterministic', () => {
    expect(composeAnswer('How do JetStream streams store messages?', docs)).toBe(
      composeAnswer('How do JetStream streams store messages?', docs),
    );
  });

  it('picks the sentences that match the query and cites their passages as [n]', () => {
    const answer = composeAnswer('What does the retention policy of a stream do?', docs);
    expect(answer).toContain('A stream keeps messages according to its retention policy [2].');
    expect(answer).toMatch(/Sources: .*\[2\] Retention/);
    expect(answer).not.toContain('Consumers read messages');
  });

  it('cites several sources when the matching sentences come from several passages', () => {
    const answer = composeAnswer('How do JetStream streams keep messages?', docs);
    expect(answer).toContain('[1]');
    expect(answer).toContain('[2]');
    expect(answer).toContain('[1] JetStream basics');
    expect(answer).toContain('[2] Retention');
  });

  it('falls back to the first passage when no sentence shares a word with the query', () => {
    const answer = composeAnswer('zebra', docs);
    expect(answer).toContain('JetStream is the persistence layer of NATS [1].');
  });

  it('uses the previous question when the follow-up has no terms of its own', () => {
    const answer = composeAnswer('tell me more', docs, 'retention policy');
    expect(answer).toContain('retention policy [2].');
  });

  it('splits sentences on terminal punctuation', () => {
    expect(splitSentences('One. Two!  Three? Four')).toEqual(['One.', 'Two!', 'Three?', 'Four']);
  });

  it('does not split inside code spans or before a lower-case word', () => {
    expect(splitSentences('Send `events:resume` with `{ after, id? }` now. Use a client, e.g. the typed one. Done.')).toEqual([
      'Send `events:resume` with `{ after, id? }` now.',
      'Use a client, e.g. the typed one.',
      'Done.',
    ]);
  });
});
