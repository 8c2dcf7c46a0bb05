import { ChatApp } from './chat-app';
import { restore, signIn } from './sign-in';

/** Herald's web client: sign in (dev token), then the chat with its live run timeline. */
async function main() {
  const identity = (await restore()) ?? (await signIn());
  document.getElementById('sign-in-screen')!.hidden = true;
  await new ChatApp(identity).start();
}

void main();
