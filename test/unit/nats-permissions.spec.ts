import { PERSISTENCE_RPC, subjects, userToken } from '@herald/contracts';
import { natsInboxPrefix } from '@herald/messaging';
import {
  natsConfFor,
  NATS_USERS,
  type NatsUser,
  parseNatsConf,
  passwordVariable,
  readNatsConf,
  subjectMatches,
  type UserPermissions,
  usersOf,
} from '../support/nats-conf';

/**
 * deploy/nats/nats-server.conf, read as nats-server reads it (allow, then deny), against the
 * subjects of libs/contracts/src/subjects.ts: each service reaches what its code uses and
 * nothing it should not. test/e2e/nats-permissions.e2e.ts runs the same file on a real server.
 */
describe('deploy/nats/nats-server.conf', () => {
  const conf = parseNatsConf(readNatsConf());

  it('reads NATS subjects as nats-server does', () => {
    expect(subjectMatches('a.*.c', 'a.b.c')).toBe(true);
    expect(subjectMatches('a.*.c', 'a.b.c.d')).toBe(false);
    expect(subjectMatches('a.>', 'a.b.c')).toBe(true);
    expect(subjectMatches('a.>', 'a')).toBe(false);
    expect(subjectMatches('a.b', 'a.b.c')).toBe(false);
  });

  it('enables JetStream and has exactly one user per service, with its password from the environment', () => {
    expect(conf.jetstream).toBeDefined();
    const users = usersOf(conf);
    expect(users.map((u) => u.user).sort()).toEqual([...NATS_USERS].sort());
    for (const u of users) expect(u.password).toBe(`$${passwordVariable(u.user as NatsUser)}`);
  });

  it('admits no anonymous client: no no_auth_user, no shared user or token, no accounts', () => {
    const auth = conf.authorization as Record<string, unknown>;
    expect(Object.keys(auth)).toEqual(['users']);
    expect(readNatsConf()).not.toMatch(/^[^\S\n\r\u2028\u2029]*no_auth_user/m);
    expect(conf.accounts).toBeUndefined();
    expect(conf.no_auth_user).toBeUndefined();
  });

  describe.each(['herald', 'acme'])('for HERALD_NAMESPACE=%s', (namespace) => {
    const s = subjects(namespace);
    const rendered = namespace === 'herald' ? readNatsConf() : natsConfFor(namespace);
    const users = Object.fromEntries(usersOf(parseNatsConf(rendered)).map((u) => [u.user, u])) as Record<NatsUser, UserPermissions>;
    const { gateway, orchestrator, worker, persistence } = users;
    const all = Object.values(users);
    const user = 'alice@example.com';
    const live = s.liveOfUser(user);
    const event = s.events(user, 'c1', 'r1');
    const { events: EVENTS, runs: RUNS } = s.streams;
    const durable = (stream: string, name: string) => `$JS.API.CONSUMER.INFO.${stream}.${name}`;

    it('mentions no other namespace', () => {
      if (namespace !== 'herald') expect(rendered).not.toMatch(/\bherald\.|HERALD_(EVENTS|RUNS)/);
    });

    it('lets only gateways subscribe to live events, and nobody publish them (the EVENTS stream republishes)', () => {
      expect(gateway.canSubscribe(live)).toBe(true);
      expect(gateway.canSubscribe(s.liveAll)).toBe(true);
      for (const u of [orchestrator, worker, persistence]) {
        expect({ user: u.user, live: u.canSubscribe(live), all: u.canSubscribe(s.liveAll) }).toEqual({
          user: u.user,
          live: false,
          all: false,
        });
      }
      for (const u of all)
        expect({ user: u.user, publish: u.canPublish(`${s.namespace}.live.${userToken(user)}.c1.r1`) }).toEqual({
          user: u.user,
          publish: false,
        });
    });

    it('lets only persistence answer its requests, and each caller make only the ones its code makes', () => {
      for (const u of all) expect({ user: u.user, serves: u.canSubscribe(s.rpcAll) }).toEqual({ user: u.user, serves: u === persistence });
      expect(persistence.allowResponses).toBe(true);
      const callers: Record<string, UserPermissions[]> = {
        [PERSISTENCE_RPC.admitRun]: [gateway],
        [PERSISTENCE_RPC.abandonRun]: [gateway],
        [PERSISTENCE_RPC.getRun]: [gateway, orchestrator],
        [PERSISTENCE_RPC.listConversations]: [gateway],
        [PERSISTENCE_RPC.listMessages]: [gateway],
        [PERSISTENCE_RPC.switchBranch]: [gateway],
        [PERSISTENCE_RPC.history]: [orchestrator],
        [PERSISTENCE_RPC.eventsAfter]: [gateway],
        [PERSISTENCE_RPC.ingestKnowledge]: [gateway],
        [PERSISTENCE_RPC.userUsage]: [gateway],
        [PERSISTENCE_RPC.dayUsage]: [gateway],
        [PERSISTENCE_RPC.setFeedback]: [gateway],
        [PERSISTENCE_RPC.listFeedback]: [gateway],
        [PERSISTENCE_RPC.ping]: [gateway],
      };
      // A new operation needs its caller in the configuration (and here).
      expect(Object.keys(callers).sort()).toEqual(Object.values(PERSISTENCE_RPC).sort());
      for (const op of Object.values(PERSISTENCE_RPC)) {
        const allowed = all.filter((u) => u.canPublish(s.rpc(op))).map((u) => u.user);
        expect({ op, allowed }).toEqual({ op, allowed: callers[op].map((u) => u.user) });
      }
    });

    it("gives each service its own reply inbox, and nobody everyone's", () => {
      for (const u of all) {
        const own = `${natsInboxPrefix(u.user)}.abc.1`;
        expect({
          user: u.user,
          own: u.canSubscribe(own),
          everyone: u.canSubscribe('_INBOX.>'),
          plain: u.canSubscribe('_INBOX.abc.1'),
        }).toEqual({
          user: u.user,
          own: true,
          everyone: false,
          plain: false,
        });
        for (const other of all.filter((o) => o !== u)) expect(u.canSubscribe(`${natsInboxPrefix(other.user)}.abc.1`)).toBe(false);
        // Replies reach a requester through allow_responses, never through a publish permission.
        expect(u.canPublish(`${natsInboxPrefix(gateway.user)}.abc.1`)).toBe(false);
      }
    });

    it('lets each service publish and subscribe where its code does, and not elsewhere', () => {
      const can = (u: UserPermissions) => ({
        runRequest: u.canPublish(s.runRequestOf('c1')),
        events: u.canPublish(event),
        cancel: u.canPublish(s.runCancel),
        respond: u.canPublish(s.runRespond),
        released: u.canPublish(s.conversationReleased),
        settled: u.canPublish(s.stepSettled),
        hearsCancel: u.canSubscribe(s.runCancel),
        hearsRespond: u.canSubscribe(s.runRespond),
        hearsReleased: u.canSubscribe(s.conversationReleased),
        hearsSettled: u.canSubscribe(s.stepSettled),
        hearsEvents: u.canSubscribe(s.eventsAll),
      });
      const none = {
        runRequest: false,
        events: false,
        cancel: false,
        respond: false,
        released: false,
        settled: false,
        hearsCancel: false,
        hearsRespond: false,
        hearsReleased: false,
        hearsSettled: false,
        hearsEvents: false,
      };
      expect(can(gateway)).toEqual({ ...none, runRequest: true, cancel: true, respond: true });
      expect(can(orchestrator)).toEqual({
        ...none,
        events: true,
        cancel: true,
        released: true,
        hearsCancel: true,
        hearsReleased: true,
        hearsSettled: true,
      });
      expect(can(worker)).toEqual({ ...none, events: true, settled: true, hearsCancel: true, hearsRespond: true });
      expect(can(persistence)).toEqual(none);
    });

    it('lets every service create or update the streams at start, and none delete or purge them', () => {
      for (const u of all) {
        for (const stream of [EVENTS, RUNS]) {
          for (const op of ['INFO', 'CREATE', 'UPDATE'])
            expect([u.user, op, u.canPublish(`$JS.API.STREAM.${op}.${stream}`)]).toEqual([u.user, op, true]);
          for (const op of ['DELETE', 'PURGE'])
            expect([u.user, op, u.canPublish(`$JS.API.STREAM.${op}.${stream}`)]).toEqual([u.user, op, false]);
        }
        expect(u.canPublish('$JS.API.INFO')).toBe(true);
        expect(u.canPublish('$JS.API.STREAM.CREATE.OTHER')).toBe(false);
      }
    });

    it("keeps each durable consumer to its service: persistence's event writer and webhooks, the orchestrators' run queue", () => {
      const runs = s.consumers.orchestratorRuns;
      const writerOps = [s.consumers.persistenceEvents, s.consumers.persistenceWebhooks].flatMap((writer) => [
        durable(EVENTS, writer),
        `$JS.API.CONSUMER.CREATE.${EVENTS}.${writer}.${s.eventsAll}`,
        `$JS.API.CONSUMER.DURABLE.CREATE.${EVENTS}.${writer}`,
        `$JS.API.CONSUMER.MSG.NEXT.${EVENTS}.${writer}`,
        `$JS.API.CONSUMER.DELETE.${EVENTS}.${writer}`,
        `$JS.ACK.${EVENTS}.${writer}.1.2.3.4.5`,
      ]);
      const runOps = [
        durable(RUNS, runs),
        `$JS.API.CONSUMER.CREATE.${RUNS}.${runs}`,
        `$JS.API.CONSUMER.MSG.NEXT.${RUNS}.${runs}`,
        `$JS.API.CONSUMER.DELETE.${RUNS}.${runs}`,
        `$JS.ACK.${RUNS}.${runs}.1.2.3.4.5`,
      ];
      for (const u of all) {
        for (const subject of writerOps) {
          const allowed = u === persistence && !subject.includes('.DELETE.');
          expect({ user: u.user, subject, allowed: u.canPublish(subject) }).toEqual({ user: u.user, subject, allowed });
        }
        for (const subject of runOps) {
          const allowed = u === orchestrator && !subject.includes('.DELETE.');
          expect({ user: u.user, subject, allowed: u.canPublish(subject) }).toEqual({ user: u.user, subject, allowed });
        }
      }
      // Reading the RUNS requests queued before a run: orchestrators only.
      expect(all.filter((u) => u.canPublish(`$JS.API.STREAM.MSG.GET.${RUNS}`)).map((u) => u.user)).toEqual(['orchestrator']);
    });

    it("lets gateways (replays) and workers (a retried step's earlier events) read EVENTS through consumers of their own", () => {
      // The gateway's replay consumer is ephemeral (named by the server); the worker's ordered consumer carries its filter in the subject.
      expect(gateway.canPublish(`$JS.API.CONSUMER.CREATE.${EVENTS}`)).toBe(true);
      expect(worker.canPublish(`$JS.API.CONSUMER.CREATE.${EVENTS}.abc_1.${event}`)).toBe(true);
      expect(worker.canPublish(`$JS.API.CONSUMER.CREATE.${EVENTS}.abc_1`)).toBe(false);
      expect(worker.canPublish(`$JS.API.CONSUMER.CREATE.${EVENTS}.abc_1.${live}`)).toBe(false);
      for (const u of [gateway, worker]) {
        for (const op of ['INFO', 'MSG.NEXT', 'DELETE'])
          expect([u.user, op, u.canPublish(`$JS.API.CONSUMER.${op}.${EVENTS}.abc_1`)]).toEqual([u.user, op, true]);
        expect(u.canPublish(`$JS.API.CONSUMER.CREATE.${RUNS}`)).toBe(false);
      }
      for (const u of [orchestrator, persistence]) expect(u.canPublish(`$JS.API.CONSUMER.CREATE.${EVENTS}`)).toBe(false);
    });

    it("lets gateways read a run's last event from EVENTS (conditional GET /v1/runs/:runId), and nobody else", () => {
      expect(all.filter((u) => u.canPublish(`$JS.API.STREAM.MSG.GET.${EVENTS}`)).map((u) => u.user)).toEqual(['gateway']);
      expect(gateway.canPublish(`$JS.API.DIRECT.GET.${EVENTS}`)).toBe(false);
    });
  });
});
