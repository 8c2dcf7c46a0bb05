import { Injectable } from '@nestjs/common';
import { ErrorCode, HeraldError, type IngestKnowledgeReply, type IngestKnowledgeRequest } from '@herald/contracts';
import { documentIdOf, ingestText } from '@herald/db';
import { DataSource } from 'typeorm';

/** Adds documents sent over HTTP (`POST /v1/knowledge`) to the knowledge base, all or none. */
@Injectable()
export class KnowledgeIngest {
  constructor(private readonly dataSource: DataSource) {}

  async ingest({ documents }: IngestKnowledgeRequest): Promise<IngestKnowledgeReply> {
    const named = documents.map((d) => ({ ...d, id: documentIdOf(d.name) }));
    const empty = named.find((d) => d.id === '');
    if (empty) throw new HeraldError(ErrorCode.INVALID_INPUT, `documents: "${empty.name}" has no letters or digits to name it by`);
    const ids = new Set(named.map((d) => d.id));
    if (ids.size !== named.length) throw new HeraldError(ErrorCode.INVALID_INPUT, 'documents: two documents have the same name');
    return this.dataSource.transaction(async (manager) => {
      const stored = [];
      for (const doc of named) {
        const chunked = await ingestText(manager, { id: doc.id, text: doc.content, source: `api:${doc.name}` });
        stored.push({ id: chunked.id, title: chunked.title, chunks: chunked.chunks.length });
      }
      return { documents: stored };
    });
  }
}
