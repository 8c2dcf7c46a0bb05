import { cutAt, CUT_LEVELS, isFence, parseHeading, withoutLinkTargets } from './markdown-scan';

/** A searchable passage of a document. */
export interface KnowledgeChunk {
  /** `<documentId>#<n>`, n counting from 1 in document order. */
  id: string;
  /** "Document title › Section heading" (the document title alone before the first section). */
  title: string;
  content: string;
}

export interface ChunkedDocument {
  id: string;
  title: string;
  chunks: KnowledgeChunk[];
}

export interface ChunkOptions {
  /** A chunk stops growing once it has this many characters... */
  targetChars: number;
  /** ...and never grows past this many. */
  maxChars: number;
}

export const DEFAULT_CHUNK_OPTIONS: ChunkOptions = { targetChars: 600, maxChars: 900 };

export const TITLE_SEPARATOR = ' › ';

interface Section {
  heading: string | null;
  blocks: string[];
}

/**
 * Splits a Markdown document into passages for full-text search. A section (a heading and
 * what follows it) becomes one or more chunks, cut at paragraph boundaries into pieces of
 * about `targetChars`..`maxChars` characters; consecutive short sections are joined into one
 * chunk while they fit, each keeping its heading as a line. Code fences are kept whole when
 * they fit; a block longer than `maxChars` is cut at lines, then sentences, then words.
 */
export function chunkMarkdown(documentId: string, markdown: string, options: Partial<ChunkOptions> = {}): ChunkedDocument {
  const opts = { ...DEFAULT_CHUNK_OPTIONS, ...options };
  if (opts.targetChars > opts.maxChars) throw new Error('targetChars must not exceed maxChars');
  const { title, sections } = parseSections(markdown);
  const documentTitle = title ?? humanize(documentId);
  const chunks = mergeShortSections(
    sections.map((section) => ({ headings: [section.heading], pieces: packBlocks(section.blocks, opts) })),
    opts,
  ).flatMap((unit) => {
    const headings = unit.headings.filter((h): h is string => h !== null);
    const chunkTitle = headings.length ? `${documentTitle}${TITLE_SEPARATOR}${headings.join('; ')}` : documentTitle;
    return unit.pieces.map((content) => ({ title: chunkTitle, content }));
  });
  return {
    id: documentId,
    title: documentTitle,
    chunks: chunks.map((c, i) => ({ id: `${documentId}#${i + 1}`, ...c })),
  };
}

interface Unit {
  headings: (string | null)[];
  pieces: string[];
}

/** Joins a short one-chunk section with the next one-chunk section while the result fits. */
function mergeShortSections(units: Unit[], opts: ChunkOptions): Unit[] {
  const out: Unit[] = [];
  for (const unit of units) {
    const last = out[out.length - 1];
    if (last && last.pieces.length === 1 && unit.pieces.length === 1 && last.pieces[0].length < opts.targetChars) {
      const heading = unit.headings[0];
      const joined = [last.pieces[0], ...(heading ? [heading] : []), unit.pieces[0]].join('\n\n');
      if (joined.length <= opts.maxChars) {
        out[out.length - 1] = { headings: [...last.headings, ...unit.headings], pieces: [joined] };
        continue;
      }
    }
    out.push(unit);
  }
  return out;
}

/** The first `# ` heading is the document's title; every other heading opens a section. */
function parseSections(markdown: string): { title: string | null; sections: Section[] } {
  let title: string | null = null;
  const sections: Section[] = [];
  let section: Section = { heading: null, blocks: [] };
  let paragraph: string[] = [];
  let inFence = false;

  const endParagraph = () => {
    const text = paragraph.join('\n').trim();
    if (text) section.blocks.push(text);
    paragraph = [];
  };
  const startSection = (heading: string | null) => {
    endParagraph();
    if (section.blocks.length) sections.push(section);
    section = { heading, blocks: [] };
  };

  for (const line of markdown.replace(/\r\n?/g, '\n').split('\n')) {
    if (isFence(line)) {
      inFence = !inFence;
      paragraph.push(line);
      continue;
    }
    if (inFence) {
      paragraph.push(line);
      continue;
    }
    const heading = parseHeading(line);
    if (heading) {
      const text = plainText(heading.text);
      if (heading.level === 1 && title === null) {
        title = text;
        startSection(null);
      } else {
        startSection(text);
      }
      continue;
    }
    if (line.trim() === '') endParagraph();
    else paragraph.push(line);
  }
  startSection(null);
  return { title, sections };
}

/**
 * Packs a section's blocks into chunks. The number of chunks is what `maxChars` requires,
 * and each aims at an equal share of the section, so a section does not end with a scrap;
 * a short piece that the next block does not fit beside is cut together with that block.
 */
function packBlocks(blocks: string[], opts: ChunkOptions): string[] {
  const pieces = blocks.flatMap((b) => splitToFit(b, opts.maxChars));
  const total = pieces.reduce((n, p) => n + p.length, 0) + 2 * Math.max(0, pieces.length - 1);
  const count = Math.ceil(total / opts.maxChars);
  const share = Math.min(opts.maxChars, Math.max(opts.targetChars, Math.ceil(total / Math.max(1, count))));
  const out: string[] = [];
  let current = '';
  for (const piece of pieces) {
    const joined = current ? `${current}\n\n${piece}` : piece;
    if (joined.length <= opts.maxChars && current.length < share) {
      current = joined;
    } else if (current.length >= share / 2) {
      out.push(current);
      current = piece;
    } else {
      const parts = splitToFit(joined, opts.maxChars);
      out.push(...parts.slice(0, -1));
      current = parts[parts.length - 1];
    }
  }
  if (current) out.push(current);
  return out;
}

/**
 * Joins (non-empty) pieces in order into as few strings of at most `max` characters as it
 * takes, of about equal length. Each string is joined once, from the pieces it takes.
 */
function pack(pieces: string[], joiner: string, max: number): string[] {
  const total = pieces.reduce((n, p) => n + p.length, 0) + joiner.length * Math.max(0, pieces.length - 1);
  const target = total / Math.max(1, Math.ceil(total / max));
  const out: string[] = [];
  let first = 0; // the current string is pieces[first..i) joined, `length` characters long
  let length = 0;
  for (let i = 0; i < pieces.length; i++) {
    const piece = pieces[i];
    if (i > first && (length >= target || length + joiner.length + piece.length > max)) {
      out.push(pieces.slice(first, i).join(joiner));
      first = i;
    }
    length = i > first ? length + joiner.length + piece.length : piece.length;
  }
  if (first < pieces.length) out.push(pieces.slice(first).join(joiner));
  return out;
}

/** Cuts a block that is longer than `max` at the most natural points that make it fit. */
export function splitToFit(text: string, max: number, level = 0): string[] {
  if (text.length <= max) return [text];
  if (level >= CUT_LEVELS) {
    const out: string[] = [];
    for (let i = 0; i < text.length; i += max) out.push(text.slice(i, i + max));
    return out;
  }
  // Lines keep their indentation (code); smaller pieces are re-joined with single spaces.
  const parts = cutAt(text, level);
  if (parts.length <= 1) return splitToFit(text, max, level + 1);
  const pieces: string[] = [];
  for (const part of parts) {
    if (part.length <= max) pieces.push(part);
    else for (const piece of splitToFit(part, max, level + 1)) pieces.push(piece);
  }
  return pack(pieces, level === 0 ? '\n' : ' ', max);
}

/** A heading's words without Markdown markup: `code`, **bold**, [links](url). */
function plainText(markdown: string): string {
  return withoutLinkTargets(markdown).replace(/[`*_]/g, '').replace(/\s+/g, ' ').trim();
}

function humanize(id: string): string {
  const words = id.replace(/[-_]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}
