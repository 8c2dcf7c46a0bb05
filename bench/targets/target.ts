import type { NamedPid } from '../lib/proc-stat';

export type TargetName = 'herald' | 'direct' | 'bare' | 'socketio' | 'langgraph';

export interface ProduceOutcome {
  sent: number;
  /** Events the system took in (JetStream acks for Herald): each must reach its user's socket. */
  delivered: number;
  failed: number;
}

/** A system under test, as the workloads see it. */
export interface Target {
  readonly name: TargetName;
  readonly description: string;
  /** Socket.IO URLs; clients are spread over them round-robin. */
  readonly urls: string[];
  /**
   * The clients resume from their last event id when they reconnect (`events:resume`, Herald
   * only); the others' clients do not ask (the Socket.IO peer recovers by its own means).
   */
  readonly clientResume: boolean;
  /** Can run the runs workload (chat:send → agents). */
  readonly runsAgents: boolean;
  /** The processes whose CPU time is measured. */
  processes(): NamedPid[];
  /**
   * The infrastructure processes the system needs (nats-server, redis-server, Postgres's),
   * asked again at the end of each window (Postgres backends come and go).
   */
  infraProcesses(): NamedPid[];
  /** Crash case: SIGKILLs one of the servers the clients are spread over; resolves with its name. */
  killOne?(): Promise<string>;
  /** The Socket.IO peer: reconnections whose session was recovered, and those that got a new one. */
  reconnections?(): Promise<{ recovered: number; fresh: number }>;
  /** The load generator's processes of this target (relay producers), measured for the log only. */
  loadProcesses(): NamedPid[];
  /** The process whose memory per idle connection is measured, and its URL. */
  memoryProcess(): { process: NamedPid; url: string };
  /** Relay workload: `rate` events/s for `durationMs`, spread over `users` (one run each), tagged `tag`. */
  produce(users: string[], rate: number, durationMs: number, tag: string): Promise<ProduceOutcome>;
  stop(): Promise<void>;
}
