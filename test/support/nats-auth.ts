import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { untilListening } from './infra-servers';
import { freePort } from './cluster';
import { natsConfFor, NATS_USERS, type NatsUser, passwordVariable } from './nats-conf';

/**
 * A nats-server of the test's own on a free loopback port, run with Herald's configuration
 * (rendered for `namespace`) and a random password per service in its environment. Its log
 * (permission violations included) is kept in `logFile`.
 */
export class AuthNatsServer {
  private process?: ChildProcess;
  private exited?: Promise<void>;

  private constructor(
    readonly port: number,
    readonly dir: string,
    readonly logFile: string,
    readonly passwords: Record<NatsUser, string>,
  ) {}

  static async start(namespace: string, logDir: string): Promise<AuthNatsServer> {
    const dir = mkdtempSync(join(tmpdir(), 'herald-nats-auth-'));
    mkdirSync(logDir, { recursive: true });
    // Letters and digits, starting with a letter (the config parser reads a leading digit as a number).
    const passwords = Object.fromEntries(NATS_USERS.map((u) => [u, `p${randomBytes(16).toString('hex')}`])) as Record<NatsUser, string>;
    const server = new AuthNatsServer(await freePort(), dir, join(logDir, 'nats-server.log'), passwords);
    await server.run(natsConfFor(namespace));
    return server;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** NATS_USER/NATS_PASSWORD of a service, as its environment. */
  envOf(user: NatsUser): Record<string, string> {
    return { NATS_USER: user, NATS_PASSWORD: this.passwords[user] };
  }

  /** The server's log so far. */
  log(): string {
    return readFileSync(this.logFile, 'utf8');
  }

  /** The permission violations the server has logged so far. */
  violations(): string[] {
    return this.log()
      .split('\n')
      .filter((line) => /(?:Publish|Subscription) Violation/.test(line));
  }

  private get confFile(): string {
    return join(this.dir, 'nats-server.conf');
  }

  /**
   * Stops the server and starts it again on the same port and store with these passwords in
   * its environment (a rotation on the server's side).
   */
  async restart(passwords: Record<NatsUser, string>): Promise<void> {
    this.process!.kill('SIGTERM');
    await this.exited;
    await this.run(readFileSync(this.confFile, 'utf8'), passwords);
  }

  private async run(conf: string, passwords = this.passwords): Promise<void> {
    const confFile = this.confFile;
    writeFileSync(confFile, conf);
    const env = { PATH: process.env.PATH ?? '', ...Object.fromEntries(NATS_USERS.map((u) => [passwordVariable(u), passwords[u]])) };
    const child = spawn(
      '/usr/sbin/nats-server',
      ['-c', confFile, '-a', '127.0.0.1', '-p', String(this.port), '-sd', join(this.dir, 'js')],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const log = createWriteStream(this.logFile, { flags: 'a' });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    this.process = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const exitedFirst = this.exited.then(() => {
      throw new Error(`nats-server exited before listening (see ${this.logFile})`);
    });
    await Promise.race([untilListening(this.port), exitedFirst]);
  }

  async stop(): Promise<void> {
    if (this.process && this.process.exitCode === null && this.process.signalCode === null) this.process.kill('SIGTERM');
    await this.exited;
    rmSync(this.dir, { recursive: true, force: true });
  }
}
