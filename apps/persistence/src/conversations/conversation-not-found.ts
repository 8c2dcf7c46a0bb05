import { ErrorCode, HeraldError } from '@herald/contracts';

/** The same answer for a conversation that does not exist and for one that is not the user's. */
export const conversationNotFound = () => new HeraldError(ErrorCode.NOT_FOUND, 'Conversation not found');

/** A message id that is not one of the conversation's (another conversation's, another user's, or none). */
export const messageNotFound = () => new HeraldError(ErrorCode.NOT_FOUND, 'Message not found');
