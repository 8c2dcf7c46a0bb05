import { type ChildProcess, fork } from 'node:child_process';

interface Request {
  id: number;
  cmd: string;
  args: unknown;
}

type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

export type Handlers = Record<string, (args: never) => unknown>;

/** Every child the bench started: all of them are killed when it ends, however it ends. */
const children = new Set<ChildProcess>();

export function killAllChildren(signal: NodeJS.Signals = 'SIGKILL'): void {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill(signal);
}

/**
 * A bench helper process (client host, producer, baseline server) driven over Node's IPC
 * channel: `call(cmd, args)` runs the child's handler and resolves with its result. Every
 * call is bounded by a timeout, and a child that dies fails its pending calls.
 */
export class BenchChild {
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  readonly process: ChildProcess;
  readonly exited: Promise<void>;

  constructor(
    readonly name: string,
    script: string,
    env: Record<string, string> = {},
  ) {
    this.process = fork(script, [], {
      env: { ...process.env, ...env },
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.add(this.process);
    // A failed send (the child already gone) fails that call; it must never crash the bench.
    this.process.on('error', () => undefined);
    this.process.on('message', (msg: Reply) => {
      const waiter = this.pending.get(msg.id);
      if (!waiter) return;
      this.pending.delete(msg.id);
      if (msg.ok) waiter.resolve(msg.result);
      else waiter.reject(new Error(`${this.name}: ${msg.error}`));
    });
    this.exited = new Promise((resolve) =>
      this.process.on('exit', (code, signal) => {
        children.delete(this.process);
        for (const waiter of this.pending.values()) waiter.reject(new Error(`${this.name} exited (${code ?? signal})`));
        this.pending.clear();
        resolve();
      }),
    );
  }

  get pid(): number {
    return this.process.pid ?? -1;
  }

  call<T>(cmd: string, args: unknown = {}, timeoutMs = 60_000): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}: ${cmd} took more than ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => (clearTimeout(timer), resolve(v as T)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      if (!this.process.connected) return this.pending.get(id)?.reject(new Error(`${this.name} is not running`));
      this.process.send({ id, cmd, args } satisfies Request, (err) => {
        if (err) this.pending.get(id)?.reject(new Error(`${this.name}: ${err.message}`));
      });
    });
  }

  /** Asks the child to exit; kills it if it has not after `graceMs`. */
  async stop(graceMs = 5_000): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    this.process.kill('SIGTERM');
    const timer = setTimeout(() => this.process.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/**
 * The child side: answers the parent's calls with `handlers`, exits on SIGTERM (after
 * `onStop`) and when the parent goes away, so a child never outlives the bench.
 */
export function serveParent(handlers: Handlers, onStop: () => Promise<void> | void = () => undefined): void {
  const stop = async () => {
    await Promise.race([Promise.resolve().then(onStop), new Promise((r) => setTimeout(r, 3_000))]).catch(() => undefined);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => undefined); // the parent decides when we stop
  process.on('disconnect', () => void stop());
  const answer = async (msg: Request) => {
    const handler = handlers[msg.cmd] as ((args: unknown) => unknown) | undefined;
    try {
      if (!handler) throw new Error(`unknown command ${msg.cmd}`);
      const result = await handler(msg.args);
      process.send?.({ id: msg.id, ok: true, result } satisfies Reply);
    } catch (err) {
      process.send?.({ id: msg.id, ok: false, error: err instanceof Error ? err.message : String(err) } satisfies Reply);
    }
  };
  process.on('message', (msg: Request) => void answer(msg)); // answer replies with its own errors
}
