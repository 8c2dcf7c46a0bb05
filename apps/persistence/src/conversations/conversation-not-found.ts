import { ErrorCode, HeraldError } from '@herald/contracts';

/** The same answer for a conversation that does not exist and for one that is not the user's. */
export const conversationNotFound = () => new HeraldError(ErrorCode.NOT_FOUND, 'Conversation not found');
