import { z } from 'zod';
import { sourceSchema } from './events';
import { INTENTS } from './jobs';

/**
 * The `input` and `output` of each built-in agent's job (AgentJob.input / AgentJobResult.output).
 * Inputs are plain objects: unknown keys are ignored, so the supervisor may hand every step
 * the same accumulated findings.
 */

/** A knowledge-base passage as retrieval returns it; `score` is the search engine's rank. */
export const passageSchema = z.object({
  id: z.string(),
  title: z.string(),
  content: z.string(),
  score: z.number(),
});
export type Passage = z.infer<typeof passageSchema>;

const question = z.string().trim().min(1, 'must not be empty');

export const triageInputSchema = z.object({ question });
export type TriageInput = z.infer<typeof triageInputSchema>;

export const triageOutputSchema = z.object({
  intent: z.enum(INTENTS),
  confidence: z.number().min(0).max(1),
  /**
   * The stages to run next, in order: an agent name is a stage of one step; a list of names is
   * a stage whose steps run in parallel (the next stage gets all their outputs).
   */
  plan: z.array(z.union([z.string(), z.array(z.string())])),
  /** Those of them that may wait for the user (their steps get HUMAN_RESPONSE_TIMEOUT_MS more). */
  interactive: z.array(z.string()).default([]),
});
export type TriageOutput = z.infer<typeof triageOutputSchema>;

export const knowledgeInputSchema = z.object({ question, intent: z.enum(INTENTS).default('question') });
export type KnowledgeInput = z.infer<typeof knowledgeInputSchema>;

export const knowledgeOutputSchema = z.object({ passages: z.array(passageSchema) });
export type KnowledgeOutput = z.infer<typeof knowledgeOutputSchema>;

/**
 * The data agent's demo dataset: the schema its tables live in and the read-only role its
 * queries run as. Defined once here, the lowest library both @herald/db (the migrations that
 * create and lock them down) and @herald/agents (the SQL guard, the pool) may import.
 */
export const DEMO_SCHEMA = 'demo';
export const DEMO_READER_ROLE = 'herald_demo_reader';

/** A query result of the data agent: it goes into the answer's `metadata.table`. */
export const dataTableSchema = z.object({
  columns: z.array(z.string()),
  rows: z.array(z.array(z.union([z.string(), z.number(), z.boolean(), z.null()]))),
  /** Rows returned (at most the row limit). */
  rowCount: z.number().int().nonnegative(),
  /** More rows matched than the row limit, or the result's size limit, lets through. */
  truncated: z.boolean(),
  /** The SQL that produced it (one read-only SELECT over the demo schema). */
  sql: z.string(),
});
export type DataTable = z.infer<typeof dataTableSchema>;

export const dataInputSchema = z.object({ question, intent: z.enum(INTENTS).default('data') });
export type DataInput = z.infer<typeof dataInputSchema>;

export const dataOutputSchema = z.object({
  /** What the table shows, in a line ("Revenue by region"). */
  title: z.string(),
  table: dataTableSchema.optional(),
  /** What the user should know: no answer found, the export was declined... */
  notes: z.array(z.string()).default([]),
  /** The result as CSV, when the user approved exporting it. */
  export: z.object({ format: z.literal('csv'), filename: z.string(), content: z.string() }).optional(),
});
export type DataOutput = z.infer<typeof dataOutputSchema>;

export const reportingInputSchema = z.object({
  question,
  intent: z.enum(INTENTS),
  passages: z.array(passageSchema).default([]),
  data: dataOutputSchema.optional(),
});
export type ReportingInput = z.infer<typeof reportingInputSchema>;

export const reportingOutputSchema = z.object({ content: z.string(), sources: z.array(sourceSchema) });
export type ReportingOutput = z.infer<typeof reportingOutputSchema>;
