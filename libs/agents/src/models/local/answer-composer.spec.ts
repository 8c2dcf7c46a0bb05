import fc from 'fast-check';
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

describe('citing a sentence', () => {
  /** The answer's body for a passage of one sentence that shares no word with the query. */
  const citedAs = (sentence: string) => composeAnswer('zebra', [{ id: 'kb', title: 'T', content: sentence }]).split('\n\n')[1];

  it('puts [n] where the former pattern put it', () => {
    // eslint-disable-next-line regexp/no-super-linear-backtracking -- the former pattern, as an oracle on short input
    const former = /^(.*?)([.!?]+["')\]]*)$/;
    const sentence = fc
      .array(fc.constantFrom('a', 'B', '.', '.', '!', '?', '"', "'", ')', ']', '(', ','), { minLength: 1, maxLength: 16 })
      .map((chars) => chars.join(''));
    fc.assert(
      fc.property(sentence, (s) => {
        const m = former.exec(s);
        expect(citedAs(s)).toBe(m ? `${m[1]} [1]${m[2]}` : `${s} [1]`);
      }),
      { numRuns: 3_000 },
    );
    expect(citedAs('Streams persist messages!?")')).toBe('Streams persist messages [1]!?")');
    expect(citedAs('No punctuation')).toBe('No punctuation [1]');
  });

  it('cites a sentence ending in a long run of punctuation in linear time', () => {
    const sentence = `Stop${'!'.repeat(50_000)}x`; // the former pattern took 12 s: it retried the run from each "!"
    const started = performance.now();
    expect(citedAs(sentence)).toBe(`${sentence} [1]`);
    expect(performance.now() - started).toBeLessThan(200);
  });
});
