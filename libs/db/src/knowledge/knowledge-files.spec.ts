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
  });
});
