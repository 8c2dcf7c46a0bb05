export const MAX_TITLE_CHARS = 80;
export const FALLBACK_TITLE = 'New conversation';

/**
 * A new conversation's title, from its first message (PROTOCOL.md §5): the first non-blank
 * line, whitespace collapsed, at most 80 characters; a longer line is cut at a word
 * boundary where one is near, and ends with '…'.
 */
export function deriveConversationTitle(content: string): string {
  const firstLine = content.split(/\r\n|\r|\n/).find((line) => line.trim() !== '') ?? '';
  const collapsed = firstLine.replace(/\s+/g, ' ').trim();
  const chars = Array.from(collapsed); // code points: never cut a surrogate pair in two
  if (chars.length === 0) return FALLBACK_TITLE;
  if (chars.length <= MAX_TITLE_CHARS) return collapsed;
  const cut = chars.slice(0, MAX_TITLE_CHARS - 1).join('');
  const lastSpace = cut.lastIndexOf(' ');
  const head = lastSpace >= MAX_TITLE_CHARS * 0.6 ? cut.slice(0, lastSpace) : cut;
  return `${head.trimEnd()}…`;
}
