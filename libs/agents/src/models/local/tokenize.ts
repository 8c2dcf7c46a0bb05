/**
 * Splits text into word-ish tokens: a word with the whitespace after it (and a leading
 * whitespace run, if any). The tokens concatenate exactly to the input.
 */
export function tokenize(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? [];
}

/** Token count used for usage accounting by the local engine. */
export function countTokens(text: string): number {
  return text.match(/\S+/g)?.length ?? 0;
}
