import { ApiError, fetchDevToken } from './api';
import { byId } from './dom';

const USER_KEY = 'herald.userId';
const TOKEN_KEY = 'herald.token';

export interface Identity {
  userId: string;
  /** Returns a token valid for at least a minute, fetching a new one when needed. */
  token: () => Promise<string>;
}

/** Seconds since the epoch at which a JWT expires (its `exp`), or 0 when unreadable. */
function expiryOf(token: string): number {
  try {
    const payload = JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))) as { exp?: number; sub?: string };
    return payload.exp ?? 0;
  } catch {
    return 0;
  }
}

function subjectOf(token: string): string {
  try {
    return (JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))) as { sub?: string }).sub ?? 'you';
  } catch {
    return 'you';
  }
}

/** Dev tokens: the gateway signs one for any user name (only when DEV_TOKENS is on). */
function devIdentity(userId: string, first: string): Identity {
  let current = first;
  return {
    userId,
    token: async () => {
      if (expiryOf(current) * 1000 - Date.now() < 60_000) current = await fetchDevToken(userId);
      return current;
    },
  };
}

/** A pasted token (from the deployment's identity provider) cannot be renewed here. */
function pastedIdentity(token: string): Identity {
  return { userId: subjectOf(token), token: async () => token };
}

export function forget(): void {
  localStorage.removeItem(USER_KEY);
  sessionStorage.removeItem(TOKEN_KEY);
}

/** Signs in again after a reload with what was remembered, if anything (a remembered name only while dev tokens are on). */
export async function restore(devTokens: boolean): Promise<Identity | null> {
  const pasted = sessionStorage.getItem(TOKEN_KEY);
  if (pasted && expiryOf(pasted) * 1000 > Date.now()) return pastedIdentity(pasted);
  const userId = localStorage.getItem(USER_KEY);
  if (!userId || !devTokens) return null;
  try {
    return devIdentity(userId, await fetchDevToken(userId));
  } catch {
    return null;
  }
}

const NOTE = {
  dev: 'Development sign-in: the server signs a token for any name. It is off in production.',
  token: 'Development sign-in is off on this server. Paste an access token (JWT) from your identity provider.',
};

/**
 * The sign-in card: a user name for a dev token when the gateway signs them (`devTokens`),
 * otherwise a pasted token. The page never asks for a dev token when they are off.
 */
export function signIn(devTokens: boolean): Promise<Identity> {
  const form = byId<HTMLFormElement>('sign-in');
  const nameField = byId<HTMLElement>('name-field');
  const user = byId<HTMLInputElement>('user-name');
  const tokenField = byId<HTMLElement>('token-field');
  const tokenInput = byId<HTMLTextAreaElement>('token');
  const error = byId('sign-in-error');
  const showError = (message: string) => {
    error.textContent = message;
    error.hidden = false;
  };
  const offerToken = () => {
    nameField.hidden = true;
    tokenField.hidden = false;
    byId('sign-in-note').textContent = NOTE.token;
    tokenInput.focus();
  };
  byId('sign-in-screen').hidden = false;
  byId('sign-in-note').textContent = NOTE.dev;
  if (devTokens) {
    nameField.hidden = false;
    user.focus();
  } else offerToken();
  return new Promise((resolve) => {
    const submit = async (e: SubmitEvent) => {
      e.preventDefault();
      error.hidden = true;
      if (!tokenField.hidden) {
        const pasted = tokenInput.value.trim();
        if (!pasted) return;
        if (expiryOf(pasted) * 1000 <= Date.now())
          return showError('This is not a token that is still valid (a JWT with an `exp` in the future).');
        sessionStorage.setItem(TOKEN_KEY, pasted);
        resolve(pastedIdentity(pasted));
        return;
      }
      const userId = user.value.trim();
      if (!userId) return;
      try {
        const token = await fetchDevToken(userId);
        localStorage.setItem(USER_KEY, userId);
        resolve(devIdentity(userId, token));
      } catch (err) {
        // Turned off since the page asked (a gateway restarted with other settings).
        if (err instanceof ApiError && err.status === 404) offerToken();
        else showError(`Could not sign in: ${(err as Error).message}`);
      }
    };
    // The listener's promise is dropped: submit shows its own errors on the form.
    form.addEventListener('submit', (e) => void submit(e));
  });
}
