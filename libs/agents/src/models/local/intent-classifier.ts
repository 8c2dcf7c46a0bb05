import type { Intent } from '@herald/contracts';
import phrasingsJson from './intent-data/phrasings.json';
import { NaiveBayes, softmax } from './naive-bayes';
import { stableHash, STOPWORDS } from './text-terms';

/** Kinds of small talk; the chitchat replies are chosen by kind. */
const SOCIAL_KINDS = ['greeting', 'wellbeing', 'thanks', 'farewell', 'acknowledgement', 'identity', 'other'] as const;
export type SocialKind = (typeof SOCIAL_KINDS)[number];

/**
 * Kinds of data question: a named figure ("revenue by region"), a vague request for figures
 * ("show me the numbers": the data agent asks which), or the shape of the dataset itself
 * ("how big are the tables", "what columns does orders have").
 */
const DATA_KINDS = ['figure', 'vague', 'shape'] as const;
export type DataKind = (typeof DATA_KINDS)[number];

/** The labels of the labelled phrasings: an Intent, with a sub-kind for chitchat and data. */
export const INTENT_LABELS = [
  ...SOCIAL_KINDS.map((k) => `chitchat.${k}` as const),
  'question',
  ...DATA_KINDS.map((k) => `data.${k}` as const),
  'report',
] as const;
export type IntentLabel = (typeof INTENT_LABELS)[number];

export interface Phrasing {
  label: IntentLabel;
  text: string;
}

export interface IntentClassifierOptions {
  /** Lidstone smoothing of the Naive Bayes counts. */
  alpha: number;
  /** Weight of a word and of a pair of neighbouring words (with start and end marks). */
  wordWeight: number;
  bigramWeight: number;
  /** Weight of a character n-gram of a word (typos, plurals, "thx" next to "thanks"). */
  charWeight: number;
  /** The lengths of the character n-grams. */
  charSizes: readonly number[];
  /** Divides the log scores before the softmax: a calibration of the confidence. */
  temperature: number;
}

/** Chosen by 5-fold cross-validation on the training part (the held-out part is only for measuring). */
export const DEFAULT_CLASSIFIER_OPTIONS: IntentClassifierOptions = {
  alpha: 0.1,
  wordWeight: 1,
  bigramWeight: 0.5,
  charWeight: 0.4,
  charSizes: [3, 4],
  temperature: 4,
};

/** One phrasing in this many is held out of training, picked by a hash of its words. */
const HELD_OUT_ONE_IN = 5;

const LABELS: ReadonlySet<string> = new Set(INTENT_LABELS);

/** The labelled phrasings (intent-data/phrasings.json), validated. */
export function loadPhrasings(): Phrasing[] {
  return (phrasingsJson as unknown[]).map((row, i) => {
    if (!Array.isArray(row) || row.length !== 2 || typeof row[0] !== 'string' || typeof row[1] !== 'string' || !LABELS.has(row[0]))
      throw new Error(`intent-data/phrasings.json, entry ${i}: expected ["<label>", "<text>"] with a known label`);
    return { label: row[0] as IntentLabel, text: row[1] };
  });
}

/**
 * Lower-cased words (apostrophes dropped: "what's" is "whats"), digits, emoji and question
 * marks, in order. What the classifier reads of a message.
 */
export function utteranceTokens(text: string): string[] {
  return (
    text
      .toLowerCase()
      .replace(/[\u2018\u2019\u02bc`']/g, '')
      .match(/[\p{L}\p{N}]+|\p{Extended_Pictographic}|\?/gu) ?? []
  );
}

/**
 * Whether a phrasing is in the held-out part: fixed by a hash of its tokens, so it never
 * changes between runs, and two phrasings that differ only in case or punctuation fall on
 * the same side.
 */
export function isHeldOut(text: string): boolean {
  return stableHash(utteranceTokens(text).join(' ')) % HELD_OUT_ONE_IN === 0;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
/** Feature ids keep 30 bits of the hash: small integers, which a Map keys fastest. */
const ID_MASK = 0x3fffffff;

/** FNV-1a of `text`, continuing from `h`. */
function fnv(h: number, text: string): number {
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), FNV_PRIME);
  return h;
}

// Each kind of feature hashes from its own prefix: `w:<word>`, `b:<word> <word>`, `c:<n-gram>`.
const WORD_PREFIX = fnv(FNV_OFFSET, 'w:');
const PAIR_PREFIX = fnv(FNV_OFFSET, 'b:');
const CHAR_PREFIX = fnv(FNV_OFFSET, 'c:');

/** The id of the feature of a word (the hash of `w:<word>`). */
function wordId(word: string): number {
  return fnv(WORD_PREFIX, word) & ID_MASK;
}

/**
 * The features of a text, by id: its words, its pairs of neighbouring words (`^` and `$` mark
 * the start and the end), and the character n-grams of `<word>` for each word. An id is a
 * 30-bit FNV-1a hash of the feature's text (`w:<word>`, `b:<word> <word>`, `c:<n-gram>`),
 * computed as the text is read, without building the strings: among the ~7k features of the
 * phrasings a collision is unlikely, and would only merge two features' counts.
 */
export function forEachFeature(text: string, opts: IntentClassifierOptions, emit: (id: number, weight: number) => void): void {
  const tokens = utteranceTokens(text);
  if (tokens.length === 0) return;
  const { wordWeight, bigramWeight, charWeight, charSizes } = opts;
  if (wordWeight > 0) for (const token of tokens) emit(wordId(token), wordWeight);
  if (bigramWeight > 0) {
    let previous = '^';
    for (let i = 0; i <= tokens.length; i++) {
      const next = i < tokens.length ? tokens[i] : '$';
      emit(fnv(fnv(fnv(PAIR_PREFIX, previous), ' '), next) & ID_MASK, bigramWeight);
      previous = next;
    }
  }
  if (charWeight > 0) {
    const longest = Math.max(...charSizes);
    const wanted = Array.from({ length: longest + 1 }, (_, n) => charSizes.includes(n));
    for (const token of tokens) {
      const padded = `<${token}>`;
      for (let i = 0; i < padded.length; i++) {
        let h = CHAR_PREFIX;
        for (let n = 1; n <= longest && i + n <= padded.length; n++) {
          h = Math.imul(h ^ padded.charCodeAt(i + n - 1), FNV_PRIME);
          if (wanted[n]) emit(h & ID_MASK, charWeight);
        }
      }
    }
  }
}

export interface IntentPrediction {
  intent: Intent;
  /** The most likely label within the intent. */
  label: IntentLabel;
  /** P(intent): the probabilities of its labels added up. */
  confidence: number;
  /** The most likely kind of small talk, when the intent is chitchat. */
  social?: SocialKind;
  /** The most likely kind of data question among the data labels, whatever the intent. */
  dataKind: DataKind;
  /** Up to three words of the message (not stopwords) that weighed most for the intent. */
  cues: string[];
  /** Probability of every label. */
  probabilities: Record<IntentLabel, number>;
}

export function intentOfLabel(label: IntentLabel): Intent {
  return label.split('.')[0] as Intent;
}

/**
 * The local engine's intent classifier: multinomial Naive Bayes over words, word pairs and
 * character n-grams, trained on labelled phrasings. The intent is the one whose labels add
 * up to the most probability; within it, the most likely label gives the kind.
 */
export class IntentClassifier {
  private constructor(
    private readonly model: NaiveBayes<IntentLabel>,
    private readonly opts: IntentClassifierOptions,
    /** Milliseconds the training took. */
    readonly trainingMs: number,
    readonly trainedOn: number,
  ) {}

  static train(phrasings: readonly Phrasing[], opts: IntentClassifierOptions = DEFAULT_CLASSIFIER_OPTIONS): IntentClassifier {
    const started = performance.now();
    const examples = phrasings.map(({ label, text }) => ({
      label,
      features: (emit: (id: number, weight: number) => void) => forEachFeature(text, opts, emit),
    }));
    const model = NaiveBayes.train(INTENT_LABELS, examples, { alpha: opts.alpha });
    return new IntentClassifier(model, opts, performance.now() - started, phrasings.length);
  }

  /** null when the message has nothing to read (no words, digits or emoji). */
  predict(text: string): IntentPrediction | null {
    const tokens = [...new Set(utteranceTokens(text))].filter((t) => t !== '?');
    if (tokens.length === 0) return null;
    const probabilities = softmax(
      this.model.logScores((emit) => forEachFeature(text, this.opts, emit)),
      this.opts.temperature,
    );
    const byLabel = Object.fromEntries(INTENT_LABELS.map((l, i) => [l, probabilities[i]])) as Record<IntentLabel, number>;

    const byIntent = new Map<Intent, number>();
    for (const label of INTENT_LABELS) byIntent.set(intentOfLabel(label), (byIntent.get(intentOfLabel(label)) ?? 0) + byLabel[label]);
    const intent = [...byIntent.entries()].reduce((best, e) => (e[1] > best[1] ? e : best))[0];
    const best = (labels: readonly IntentLabel[]) => labels.reduce((a, b) => (byLabel[b] > byLabel[a] ? b : a));
    const label = best(INTENT_LABELS.filter((l) => intentOfLabel(l) === intent));
    const dataLabel = best(DATA_KINDS.map((k) => `data.${k}` as const));
    // Words far likelier under the label than, on average, under the labels of other intents.
    const others = INTENT_LABELS.filter((l) => intentOfLabel(l) !== intent);
    const cues = tokens
      .filter((word) => !STOPWORDS.has(word))
      .map((word) => {
        const id = wordId(word);
        return { word, weight: others.reduce((sum, o) => sum + this.model.evidence(id, label, o), 0) / others.length };
      })
      .filter((c) => c.weight > 1)
      .sort((a, b) => b.weight - a.weight || (a.word < b.word ? -1 : 1))
      .slice(0, 3)
      .map((c) => c.word);

    return {
      intent,
      label,
      confidence: byIntent.get(intent)!,
      ...(intent === 'chitchat' ? { social: label.slice('chitchat.'.length) as SocialKind } : {}),
      dataKind: dataLabel.slice('data.'.length) as DataKind,
      cues,
      probabilities: byLabel,
    };
  }
}

/** The phrasings the shipped classifier is trained on: all but the held-out part. */
export function trainingPhrasings(): Phrasing[] {
  return loadPhrasings().filter((p) => !isHeldOut(p.text));
}

/** The held-out phrasings: never trained on; the accuracy in the README is measured on them. */
export function heldOutPhrasings(): Phrasing[] {
  return loadPhrasings().filter((p) => isHeldOut(p.text));
}

/** Trained once, at module load, on the training part (under 10 ms warm, about 80 ms of CPU in a fresh process). */
export const intentClassifier = IntentClassifier.train(trainingPhrasings());

export interface IntentAnalysis {
  intent: Intent;
  /** 0..1 */
  confidence: number;
  /** One or two sentences a user can read: why this intent. */
  reasoning: string;
  /** The kind of small talk, when the intent is chitchat. */
  social?: SocialKind;
  /** What kind of data question it would be (the data agent's SQL templates use it). */
  dataKind: DataKind;
}

const SOCIAL_NAMES: Record<SocialKind, string | undefined> = {
  greeting: 'a greeting',
  wellbeing: 'asking how I am',
  thanks: 'thanks',
  farewell: 'a goodbye',
  acknowledgement: 'an acknowledgement',
  identity: 'asking who I am',
  other: undefined,
};

const WHY: Record<Exclude<IntentLabel, `chitchat.${string}`>, string> = {
  question: 'It asks about Herald or its documentation, so I will search the knowledge base.',
  'data.figure': 'It asks for figures from the sales dataset, so I will query it.',
  'data.vague': 'It asks for figures from the sales dataset without naming one, so I will ask which.',
  'data.shape': 'It asks about the sales dataset itself (its tables, their size or columns), so I will look at them.',
  report: 'It asks for a written report, so I will gather figures from the dataset and passages from the knowledge base.',
};

/**
 * The intent of a message for the local engine: the classifier's prediction, with a short
 * reasoning that names the words that weighed most. A message with nothing to read (only
 * punctuation or symbols) is small talk.
 */
export function analyzeIntent(text: string, classifier: IntentClassifier = intentClassifier): IntentAnalysis {
  const p = classifier.predict(text);
  if (!p) {
    return {
      intent: 'chitchat',
      confidence: 0.6,
      reasoning: 'The message has no words to look up, so it is small talk.',
      social: 'other',
      dataKind: 'figure',
    };
  }
  const why = p.social
    ? `It reads as small talk${SOCIAL_NAMES[p.social] ? ` (${SOCIAL_NAMES[p.social]})` : ''}; there is nothing to look up.`
    : WHY[p.label as keyof typeof WHY];
  const cues = p.cues.length
    ? ` Words that weighed most: ${p.cues.map((c) => `"${c.length > 20 ? `${c.slice(0, 19)}…` : c}"`).join(', ')}.`
    : '';
  return { intent: p.intent, confidence: p.confidence, reasoning: `${why}${cues}`, social: p.social, dataKind: p.dataKind };
}
