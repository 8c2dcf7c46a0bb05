import { HeraldError } from '@herald/contracts';

/** A tool call failed. Its `tool_completed` (ok: false) is already out; the agent may catch this and carry on. */
export class ToolError extends Error {
  constructor(
    readonly tool: string,
    readonly callId: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ToolError';
  }

  /** The HeraldError behind the failure, if the tool threw one (it carries a client-safe code). */
  get heraldCause(): HeraldError | undefined {
    return HeraldError.is(this.cause) ? this.cause : undefined;
  }
}

/** The job's input does not fit the agent: retrying cannot help. */
export class AgentInputError extends Error {
  constructor(
    readonly agent: string,
    message: string,
  ) {
    super(`invalid input for agent ${agent}: ${message}`);
    this.name = 'AgentInputError';
  }
}

/** The user refused an approval: the path that needed it ends here, politely. */
export class ApprovalRefused extends Error {
  constructor(
    readonly action: string,
    readonly comment?: string,
  ) {
    super(`the user declined: ${action}`);
    this.name = 'ApprovalRefused';
  }
}
