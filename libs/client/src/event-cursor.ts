import type { AgentEvent } from '@herald/contracts';

const byId = (a: AgentEvent, b: AgentEvent) => (BigInt(a.id) < BigInt(b.id) ? -1 : BigInt(a.id) > BigInt(b.id) ? 1 : 0);

/**
 * The client's position in the user's event stream (PROTOCOL.md §3): accepts each event id
 * once and in increasing order, and holds live events while a resume replays older ones.
 */
export class EventCursor {
  private last: bigint;
  private held?: AgentEvent[];

  /** `start`: the id of the last event already had (from an earlier session); `'0'` for none. */
  constructor(start = '0') {
    if (!/^\d+$/.test(start)) throw new TypeError(`an event id is a decimal string, not ${JSON.stringify(start)}`);
    this.last = BigInt(start);
  }

  /** The id of the last accepted event: the `after` of the next resume. */
  get lastId(): string {
    return this.last.toString();
  }

  get holding(): boolean {
    return this.held !== undefined;
  }

  /** Starts holding events (a resume is under way). Returns false when already holding. */
  hold(): boolean {
    if (this.held) return false;
    this.held = [];
    return true;
  }

  /** Stops holding; returns the held events that are new, in id order, and accepts them. */
  release(): AgentEvent[] {
    const held = this.held ?? [];
    this.held = undefined;
    return held.sort(byId).filter((event) => this.accept(event));
  }

  /**
   * Offers an event: while holding it is kept for `release()` (returns false); otherwise
   * returns true when it is new (and moves the cursor), false for a duplicate.
   */
  offer(event: AgentEvent): boolean {
    if (this.held) {
      this.held.push(event);
      return false;
    }
    return this.accept(event);
  }

  private accept(event: AgentEvent): boolean {
    const id = BigInt(event.id);
    if (id <= this.last) return false;
    this.last = id;
    return true;
  }
}
