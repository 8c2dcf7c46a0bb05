import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** The NATS server configuration Herald deploys with (docker-compose, Kubernetes). */
const NATS_CONF_PATH = resolve(__dirname, '../../deploy/nats/nats-server.conf');
export const NATS_USERS = ['gateway', 'orchestrator', 'worker', 'persistence'] as const;
export type NatsUser = (typeof NATS_USERS)[number];

/** The environment variable that holds a service's password in deploy/nats/nats-server.conf. */
export function passwordVariable(user: NatsUser): string {
  return `HERALD_NATS_${user.toUpperCase()}_PASSWORD`;
}

export function readNatsConf(): string {
  return readFileSync(NATS_CONF_PATH, 'utf8');
}

/**
 * deploy/nats/nats-server.conf for another HERALD_NAMESPACE: the renames its header documents
 * (subjects `herald.` → `<ns>.`, streams HERALD_EVENTS/HERALD_RUNS → `<NS>_EVENTS`/`<NS>_RUNS`).
 */
export function natsConfFor(namespace: string, conf = readNatsConf()): string {
  const upper = namespace.toUpperCase();
  return conf
    .replace(/\bherald\./g, `${namespace}.`)
    .replace(/HERALD_EVENTS/g, `${upper}_EVENTS`)
    .replace(/HERALD_RUNS/g, `${upper}_RUNS`);
}

type ConfValue = string | ConfValue[] | { [key: string]: ConfValue };
export type ConfMap = { [key: string]: ConfValue };

/**
 * Reads the part of the nats-server configuration format that Herald's file uses: maps
 * (`{}`), arrays (`[]`), `key: value`, `key = value` and `key value`, quoted and bare
 * strings, `#` and `//` comments. Values stay strings (`$VAR` included, unresolved).
 */
export function parseNatsConf(text: string): ConfMap {
  let i = 0;
  const fail = (what: string): never => {
    throw new Error(`nats conf: ${what} at line ${text.slice(0, i).split('\n').length}`);
  };
  const skip = (newlines: boolean) => {
    for (;;) {
      const c = text[i];
      if (c === '#' || (c === '/' && text[i + 1] === '/')) while (i < text.length && text[i] !== '\n') i++;
      else if (c === ' ' || c === '\t' || c === '\r' || c === ',' || c === ';' || (newlines && c === '\n')) i++;
      else return;
    }
  };
  const word = (stop: RegExp): string => {
    if (text[i] === '"' || text[i] === "'") {
      const quote = text[i++];
      const start = i;
      while (i < text.length && text[i] !== quote) i++;
      if (i >= text.length) fail('unterminated string');
      return text.slice(start, i++);
    }
    const start = i;
    while (i < text.length && !stop.test(text[i])) i++;
    if (i === start) fail(`unexpected "${text[i] ?? 'end'}"`);
    return text.slice(start, i);
  };
  const value = (): ConfValue => {
    skip(false);
    if (text[i] === '{') {
      i++;
      const map = body('}');
      i++;
      return map;
    }
    if (text[i] === '[') {
      i++;
      const items: ConfValue[] = [];
      for (;;) {
        skip(true);
        if (text[i] === ']') break;
        if (i >= text.length) fail('unterminated array');
        items.push(value());
      }
      i++;
      return items;
    }
    return word(/[\s,;}\]#]/);
  };
  const body = (close: string | undefined): ConfMap => {
    const map: ConfMap = {};
    for (;;) {
      skip(true);
      if (close ? text[i] === close : i >= text.length) return map;
      if (i >= text.length) fail('unterminated map');
      const key = word(/[\s:={]/);
      skip(false);
      if (text[i] === ':' || text[i] === '=') i++;
      map[key] = value();
    }
  };
  return body(undefined);
}

/** NATS subject matching: `*` is one token, `>` one or more at the end; the subject's own tokens are taken literally. */
export function subjectMatches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let k = 0; k < p.length; k++) {
    if (p[k] === '>') return s.length > k;
    if (k >= s.length || (p[k] !== '*' && p[k] !== s[k])) return false;
  }
  return p.length === s.length;
}

export interface UserPermissions {
  user: string;
  password: string;
  /** Whether `user` may publish to / subscribe to `subject` (allow, then deny, as nats-server decides). */
  canPublish(subject: string): boolean;
  canSubscribe(subject: string): boolean;
  allowResponses: boolean;
}

/** The users of a parsed configuration's `authorization` block, with their permissions. */
export function usersOf(conf: ConfMap): UserPermissions[] {
  const authorization = conf.authorization as ConfMap;
  return (authorization.users as ConfMap[]).map((u) => {
    const permissions = (u.permissions ?? {}) as ConfMap;
    const check = (direction: 'publish' | 'subscribe') => {
      const rule = permissions[direction] as ConfMap | string[] | undefined;
      const allow = Array.isArray(rule) ? rule : ((rule?.allow as string[] | undefined) ?? undefined);
      const deny = Array.isArray(rule) ? [] : ((rule?.deny as string[] | undefined) ?? []);
      return (subject: string) =>
        (allow === undefined || allow.some((p) => subjectMatches(p, subject))) && !deny.some((p) => subjectMatches(p, subject));
    };
    return {
      user: u.user as string,
      password: u.password as string,
      canPublish: check('publish'),
      canSubscribe: check('subscribe'),
      allowResponses: permissions.allow_responses === 'true',
    };
  });
}
