import { fetchDevConfig } from './api';
import { ChatApp } from './chat-app';
import { restore, signIn } from './sign-in';

/** Herald's web client: sign in (a dev token when the gateway signs them, else a pasted token), then the chat with its live run timeline. */
async function main() {
  // Unknown (the gateway did not answer): the pasted-token form, which needs nothing of it.
  const { devTokens } = await fetchDevConfig().catch(() => ({ devTokens: false }));
  const identity = (await restore(devTokens)) ?? (await signIn(devTokens));
  document.getElementById('sign-in-screen')!.hidden = true;
  await new ChatApp(identity).start();
}

void main();
