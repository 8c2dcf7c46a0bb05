import { AgentInputError, ToolError } from '@herald/agents';
import { HeraldError, JOB_CANCELLED_REASON } from '@herald/contracts';
import { UnrecoverableError } from 'bullmq';
import { toJobFailure } from './job-failure';

const live = new AbortController().signal;

describe('toJobFailure', () => {
  it('fails a cancelled step for good, whatever it threw', () => {
    const controller = new AbortController();
    controller.abort();
    const failure = toJobFailure(new Error('anything'), controller.signal);
    expect(failure).toBeInstanceOf(UnrecoverableError);
    expect(failure.message).toBe(JOB_CANCELLED_REASON);
  });

  it('fails invalid input for good', () => {
    const failure = toJobFailure(new AgentInputError('triage', 'question: must not be empty'), live);
    expect(failure).toBeInstanceOf(UnrecoverableError);
    expect(failure.message).toMatch(/^INVALID_INPUT \(final\): /);
  });

  it('names the code of a known failure, and lets it be retried', () => {
    const cause = new HeraldError('UNAVAILABLE', 'The knowledge base is unavailable right now.');
    const failure = toJobFailure(new ToolError('knowledge_search', 'call_1_1', cause.message, { cause }), live);
    expect(failure).not.toBeInstanceOf(UnrecoverableError);
    expect(failure.message).toBe('UNAVAILABLE: The knowledge base is unavailable right now.');
    expect(toJobFailure(new HeraldError('LLM_ERROR', 'model failed'), live).message).toBe('LLM_ERROR: model failed');
  });

  it('does not retry a step that already published what a retry must not repeat, nor a final cause', () => {
    const final = toJobFailure(new HeraldError('TIMEOUT', 'No answer came in time.'), live, true);
    expect(final).toBeInstanceOf(UnrecoverableError);
    expect(final.message).toBe('TIMEOUT: No answer came in time.'); // not retried, yet worth sending again
    const llm = Object.assign(new HeraldError('LLM_ERROR', 'The model refused the request.'), { retryable: false });
    expect(toJobFailure(llm, live)).toBeInstanceOf(UnrecoverableError);
    expect(toJobFailure(llm, live).message).toBe('LLM_ERROR (final): The model refused the request.');
    expect(toJobFailure(new Error('boom'), live, true)).toBeInstanceOf(UnrecoverableError);
  });

  it('passes other errors through', () => {
    const err = new Error('boom');
    expect(toJobFailure(err, live)).toBe(err);
    expect(toJobFailure('weird', live).message).toBe('weird');
  });
});
