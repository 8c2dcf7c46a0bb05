import type { SocialKind } from './intent-classifier';
import { stableHash } from './text-terms';

const REPLIES: Record<SocialKind, readonly string[]> = {
  greeting: [
    'Hi there! Ask me anything about the knowledge base and I will look it up for you.',
    'Hello! What would you like to know today?',
    'Hey! I am here to help. What can I look up for you?',
  ],
  wellbeing: [
    "I'm doing well, thanks for asking! What can I help you with?",
    'All good here, and ready to dig into your questions. What would you like to know?',
    "Great, thank you! What's on your mind?",
  ],
  thanks: [
    "You're welcome! Let me know if there's anything else.",
    'Happy to help! Anything else you would like to know?',
    'Any time! Feel free to ask another question.',
  ],
  farewell: [
    'Goodbye! Come back any time you have a question.',
    'See you later! Have a great day.',
    'Take care! I will be here when you need me.',
  ],
  acknowledgement: [
    'Glad that helps. Anything else I can look up?',
    'Great! Let me know if you have another question.',
    'Sounds good. What would you like to explore next?',
  ],
  identity: [
    "I'm Herald's assistant: I answer questions from the knowledge base and show you what I'm doing as I go.",
    "I'm an assistant that looks things up in the knowledge base and cites where the answer came from.",
    "I'm Herald's assistant. Ask me a question and I'll search the knowledge base for you.",
  ],
  other: [
    "I'm here whenever you have a question. What would you like to know?",
    'Happy to chat! Ask me anything about the knowledge base.',
    'Sure thing. What can I look up for you?',
  ],
};

const NOT_FOUND = [
  "I couldn't find anything in the knowledge base about that. Could you rephrase it, or add a few more details?",
  'I searched the knowledge base but found nothing that answers this. Try different words, or a more specific question?',
  'Nothing in the knowledge base matches that yet. Could you put it another way?',
] as const;

/**
 * A friendly canned reply to small talk, by kind. The variant depends on the message and
 * on how far the conversation has gone, so a second "hi" does not get the same words.
 */
export function chitchatReply(text: string, kind: SocialKind, turn: number): string {
  const variants = REPLIES[kind];
  return variants[(stableHash(text.toLowerCase()) + turn) % variants.length];
}

/** The reply when a question found no passages. */
export function notFoundReply(text: string, turn: number): string {
  return NOT_FOUND[(stableHash(text.toLowerCase()) + turn) % NOT_FOUND.length];
}
