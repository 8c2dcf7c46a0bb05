import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A knowledge-base document (one Markdown file of docs/knowledge). */
@Entity({ name: 'kb_documents' })
export class KbDocumentEntity {
  /** The file name without `.md`, e.g. `resume-and-replay`. */
  @PrimaryColumn({ type: 'text' })
  id: string;

  @Column({ type: 'text' })
  title: string;

  /** Where it came from, e.g. `docs/knowledge/resume-and-replay.md`. */
  @Column({ type: 'text' })
  source: string;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;
}
