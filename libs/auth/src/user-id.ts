export { isValidUserId, MAX_USER_ID_LENGTH, USER_ID_RULE } from '@herald/contracts';
