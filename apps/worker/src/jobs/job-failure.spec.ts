import { AgentInputError, ToolError } from '@herald/agents';
import { HeraldError } from '@herald/contracts';
import { UnrecoverableError } from 'bullmq';
import { CANCELLED, toJobFailure } from './job-failure';

const live = new AbortController().signal;

describe('toJobFailure', () => {
  it('fails a cancelled step for good, whatever it threw', () => {
    const controller = new AbortController();
    controller.abort();
    const failure = toJobFailure(new Error('anything'), controller.signal);
    expect(failure).toBeInstanceOf(UnrecoverableError);
    expect(failure.message).toBe(CANCELLED);
  });

  it('fails invalid input for good', () => {
    const failure = toJobFailure(new AgentInputError('triage', 'question: must not be empty'), live);
    expect(failure).toBeInstanceOf(UnrecoverableError);
    expect(failure.message).toMatch(/^INVALID_INPUT: /);
  });

  it('names the code of a known failure, and lets it be retried', () => {
    const cause = new HeraldError('UNAVAILABLE', 'The knowledge base is unavailable right now.');
    const failure = toJobFailure(new ToolError('knowledge_search', 'call_1_1', cause.message, { cause }), live);
    expect(failure).not.toBeInstanceOf(UnrecoverableError);
    expect(failure.message).toBe('UNAVAILABLE: The knowledge base is unavailable right now.');
    expect(toJobFailure(new HeraldError('LLM_ERROR', 'model failed'), live).message).toBe('LLM_ERROR: model failed');
  });

  it('passes other errors through', () => {
    const err = new Error('boom');
    expect(toJobFailure(err, live)).toBe(err);
    expect(toJobFailure('weird', live).message).toBe('weird');
  });
});
