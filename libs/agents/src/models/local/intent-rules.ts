import type { Intent } from '@herald/contracts';

/** Kinds of small talk the rules recognise; the chitchat replies are chosen by kind. */
export type SocialKind = 'greeting' | 'wellbeing' | 'thanks' | 'farewell' | 'acknowledgement' | 'identity';

// prettier-ignore
const SOCIAL_PHRASES: Record<SocialKind, readonly string[]> = {
  greeting: [
    'good morning', 'good afternoon', 'good evening', 'good day', "what's up", 'whats up', 'wassup', 'hello', 'hiya',
    'heya', 'hey', 'hi', 'howdy', 'hola', 'greetings', 'yo', 'sup', 'morning', 'evening',
  ],
  wellbeing: [
    'how are you doing', 'how are you', "how's it going", 'hows it going', 'how is it going', 'how are things',
    'how do you do', 'how have you been', 'how you doing', "how's your day", 'hows your day',
  ],
  thanks: ['thank you', 'thanks', 'thank u', 'thx', 'ty', 'cheers', 'much appreciated', 'appreciate it', 'many thanks'],
  farewell: [
    'goodbye', 'good bye', 'bye bye', 'bye', 'see you', 'see ya', 'cya', 'good night', 'take care', 'later',
    'have a nice day', 'have a good day', 'have a great day', 'have a good one', 'have a nice weekend', 'have a good weekend',
  ],
  acknowledgement: [
    'sounds good', 'got it', 'makes sense', 'i see', 'all right', 'alright', 'okay', 'ok', 'cool', 'great', 'nice',
    'awesome', 'perfect', 'sure', 'yes', 'yeah', 'yep', 'nope', 'no', 'lol', 'haha', 'hahaha', 'wow', 'that helps',
    "that's great", 'thats great', "that's helpful", 'thats helpful', 'that was helpful', 'very helpful', 'helpful',
    'good job', 'well done', 'nice one', 'no problem', 'np', "you're welcome", 'youre welcome', 'amazing', 'excellent',
  ],
  identity: [
    "what's your name", 'whats your name', 'what is your name', 'who are you', 'are you a bot', 'are you human',
    'are you a human', 'are you real', 'are you a robot', 'nice to meet you', 'pleased to meet you',
  ],
};

/** Words that may pad a social phrase without turning it into a request ("thanks so much, Herald!"). */
// prettier-ignore
const FILLERS = new Set([
  'there', 'again', 'everyone', 'everybody', 'all', 'friend', 'buddy', 'mate', 'herald', 'bot', 'assistant', 'you', 'u',
  'too', 'very', 'so', 'much', 'a', 'lot', 'really', 'indeed', 'please', 'oh', 'and', 'well', 'then', 'for', 'that',
  'the', 'help', 'it', 'man', 'folks', 'guys', 'dear', 'just', 'wanted', 'to', 'say',
]);

/** Words that, leading a message (or its remainder), ask for something. */
// prettier-ignore
const REQUEST_WORDS = new Set([
  'what', 'how', 'why', 'when', 'where', 'which', 'who', 'whom', 'whose', 'can', 'could', 'would', 'should', 'is',
  'are', 'do', 'does', 'did', 'will', 'explain', 'describe', 'tell', 'show', 'list', 'compare', 'define', 'give',
  'summarize', 'summarise', 'find', 'help', 'i', 'my',
]);

/** Words that point at the demo dataset (sales, customers, products): a data question. */
// prettier-ignore
const DATA_WORDS = new Set([
  'revenue', 'revenues', 'sales', 'sold', 'orders', 'ordered', 'customers', 'customer', 'units', 'products',
  'segment', 'segments', 'categories', 'dataset',
]);

/** Openings that ask for a written report. */
const REPORT_RE =
  /^(?:please )?(?:(?:write|give me|make|prepare|create|draft|produce) (?:me )?(?:a|an|the)? ?(?:short |brief |full )?report|report on|report about)\b/;

const PHRASE_RES: ReadonlyArray<{ kind: SocialKind; re: RegExp }> = Object.entries(SOCIAL_PHRASES)
  .flatMap(([kind, phrases]) => phrases.map((p) => ({ kind: kind as SocialKind, phrase: p })))
  // Longest first, so "how are you doing" wins over "how are you" and "good morning" over "morning".
  .sort((a, b) => b.phrase.length - a.phrase.length)
  .map(({ kind, phrase }) => ({ kind, re: new RegExp(`^${phrase.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?=$|[\\s?])`) }));

export interface IntentAnalysis {
  intent: Intent;
  confidence: number;
  reasoning: string;
  /** The social phrases found, in order (empty for a plain question). */
  social: SocialKind[];
}

/** Lower case; letters, digits, apostrophes and `?` kept; everything else becomes a space. */
export function normalizeUtterance(text: string): string {
  return text
    .toLowerCase()
    .replace(/[\u2018\u2019\u02bc`]/g, "'")
    .replace(/[^\p{L}\p{N}'?\s]/gu, ' ')
    .replace(/\?/g, ' ? ')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * Peels social phrases and filler words off the front of a normalised message; returns
 * what is left and the kinds of social phrases found.
 */
function peelSocial(normalized: string): { rest: string; social: SocialKind[] } {
  const social: SocialKind[] = [];
  let rest = normalized;
  for (;;) {
    rest = rest.replace(/^[\s?']+/, '');
    const phrase = PHRASE_RES.find(({ re }) => re.test(rest));
    if (phrase) {
      social.push(phrase.kind);
      rest = rest.replace(phrase.re, '');
      continue;
    }
    const word = /^(\S+)(?:\s+|$)/.exec(rest);
    if (!word || !FILLERS.has(word[1])) return { rest, social };
    rest = rest.slice(word[0].length);
  }
}

/**
 * The local engine's intent rules: a message that is only social phrases (greetings,
 * thanks, farewells, "how are you", acknowledgements, "who are you"), possibly padded
 * with filler words, is chitchat; so is a social phrase followed by a few words that ask
 * nothing. Anything else asks for information: question.
 */
export function analyzeIntent(text: string): IntentAnalysis {
  const normalized = normalizeUtterance(text);
  if (!normalized.replace(/\?/g, '').trim()) {
    return { intent: 'chitchat', confidence: 0.6, reasoning: 'The message has no words to look up, so it is small talk.', social: [] };
  }

  const { rest, social } = peelSocial(normalized);
  const restWords = rest.split(' ').filter((w) => w && w !== '?' && !FILLERS.has(w));
  const asks = rest.includes('?') || REQUEST_WORDS.has(restWords[0] ?? '');
  const kinds = [...new Set(social)].join(', ');

  if (restWords.length === 0) {
    return social.length
      ? { intent: 'chitchat', confidence: 0.95, reasoning: `Only small talk (${kinds}); nothing to look up.`, social }
      : { intent: 'chitchat', confidence: 0.6, reasoning: 'Only filler words; nothing to look up.', social };
  }
  if (social.length && restWords.length <= 4 && !asks) {
    return {
      intent: 'chitchat',
      confidence: 0.75,
      reasoning: `Mostly small talk (${kinds}) and a few words that ask for nothing.`,
      social,
    };
  }
  const dataWords = restWords.filter((w) => DATA_WORDS.has(w.replace(/'s$/, '')));
  if (REPORT_RE.test(rest)) {
    return {
      intent: 'report',
      confidence: 0.85,
      reasoning: 'It asks for a written report, so I will gather figures from the dataset and passages from the knowledge base.',
      social,
    };
  }
  if (dataWords.length > 0) {
    return {
      intent: 'data',
      confidence: 0.85,
      reasoning: `It asks about ${[...new Set(dataWords)].join(', ')}, which the sales dataset holds, so I will query it.`,
      social,
    };
  }
  if (social.length) {
    return {
      intent: 'question',
      confidence: 0.85,
      reasoning: `Small talk (${kinds}) followed by a request for information: "${truncate(rest)}".`,
      social,
    };
  }
  return asks
    ? { intent: 'question', confidence: 0.9, reasoning: 'It asks for information, so I will look it up in the knowledge base.', social }
    : { intent: 'question', confidence: 0.7, reasoning: 'No small talk recognised; treating it as a topic to look up.', social };
}

function truncate(s: string, max = 60): string {
  const clean = s.replace(/\s+\?/g, '?');
  return clean.length <= max ? clean : `${clean.slice(0, max - 1)}…`;
}
