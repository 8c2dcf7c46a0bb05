import * as path from 'node:path';
import { documentIdOf } from './knowledge-ingest';
import { KNOWLEDGE_DIR, listKnowledgeFiles } from './knowledge-files';

describe('knowledge files', () => {
  it('finds docs/knowledge at the repository root', () => {
    expect(KNOWLEDGE_DIR).toBe(path.resolve(__dirname, '../../../../docs/knowledge'));
    const files = listKnowledgeFiles();
    expect(files.length).toBeGreaterThanOrEqual(5);
    expect(files.every((f) => f.endsWith('.md'))).toBe(true);
    expect([...files].sort()).toEqual(files);
  });

  it('refuses a folder that does not exist, naming it', () => {
    expect(() => listKnowledgeFiles('/nonexistent/knowledge')).toThrow('/nonexistent/knowledge');
  });

  it('derives document ids from file names', () => {
    expect(documentIdOf('/x/docs/knowledge/resume-and-replay.md')).toBe('resume-and-replay');
    expect(documentIdOf('My Notes (v2).md')).toBe('my-notes-v2');
    expect(documentIdOf('--a -- b__.md')).toBe('a----b__');
    expect(documentIdOf('(!)')).toBe('');
  });

  it('derives an id from a hostile name in linear time', () => {
    const name = `a${'-'.repeat(200_000)}b.md`; // /-+$/ rescanned the run from each of its dashes
    const started = performance.now();
    expect(documentIdOf(name)).toBe(`a${'-'.repeat(200_000)}b`);
    expect(performance.now() - started).toBeLessThan(200);
  });
});
