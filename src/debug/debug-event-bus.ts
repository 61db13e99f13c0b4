import type { EventSubscribable } from "../events/agent-contract.js";
import type { AgentEvent } from "../events/types.js";

/** One frame of the debug feed: an event sent on some run or connect stream, and where. */
export interface DebugEventEnvelope {
  /** When it was sent (ms since the epoch). */
  timestamp: number;
  agentId: string;
  /** From the stream's `RUN_STARTED` (or `RUN_ERROR`); `""` before one was seen. */
  threadId: string;
  runId: string;
  event: AgentEvent;
}

type Observer = Parameters<EventSubscribable["subscribe"]>[0];

/**
 * Fans the events of every run and connect stream out to the debug feed's subscribers
 * (CopilotKit's inspector). Publishing costs one size check while nobody listens; with
 * listeners, one envelope per event, serialised once by the SSE writer however many read it.
 * Each subscriber is an SSE stream with its own bounded buffer: one that falls behind is cut off
 * rather than holding memory (see `handleDebugEvents`).
 *
 * @example
 * const bus = new DebugEventBus();
 * const feed = bus.feed(); // an EventSubscribable of envelopes, for an SSE response
 * bus.publish(event, { agentId: "default", threadId: "t1", runId: "r1" });
 */
export class DebugEventBus {
  /** Each subscriber, with the owner whose streams it may see (`undefined`: every stream). */
  private readonly observers = new Map<Observer, string | undefined>();

  /** How many subscribers are listening. */
  get size(): number {
    return this.observers.size;
  }

  /**
   * `where.owner` is the stream's owner when the runtime identifies users: such an event reaches
   * only the subscribers of that owner (and those without an owner filter).
   */
  publish(event: AgentEvent, where: { agentId: string; threadId: string; runId: string; owner?: string }): void {
    if (this.observers.size === 0) return;
    const envelope: DebugEventEnvelope = { timestamp: Date.now(), agentId: where.agentId, threadId: where.threadId, runId: where.runId, event };
    // The SSE writer takes any object with a type-less shape; it serialises `envelope` as is.
    for (const [observer, owner] of this.observers) {
      if (owner === undefined || owner === where.owner) observer.next(envelope as unknown as AgentEvent);
    }
  }

  /**
   * The feed as an event source: each subscription is one subscriber, removed on unsubscribe.
   * With `owner`, only the streams of that owner: with `identifyUser`, one user's feed never
   * carries another user's threads.
   */
  feed(owner?: string): EventSubscribable {
    const observers = this.observers;
    return {
      subscribe(observer) {
        observers.set(observer, owner);
        return { unsubscribe: () => void observers.delete(observer) };
      },
    };
  }
}

/**
 * Follows one SSE stream's events for the debug feed: which thread and run they belong to, as
 * CopilotKit reports it (from `RUN_STARTED`, and `RUN_ERROR` when it carries ids).
 */
export class DebugStreamTap {
  threadId = "";
  runId = "";

  constructor(
    private readonly bus: DebugEventBus,
    readonly agentId: string,
    /** Whose stream this is, when the runtime identifies users. */
    readonly owner?: string,
  ) {}

  onEvent(event: AgentEvent): void {
    if (event.type === "RUN_STARTED") {
      this.threadId = typeof event.threadId === "string" ? event.threadId : "";
      this.runId = typeof event.runId === "string" ? event.runId : "";
    } else if (event.type === "RUN_ERROR") {
      if (typeof event.threadId === "string") this.threadId = event.threadId;
      if (typeof event.runId === "string") this.runId = event.runId;
    }
    this.bus.publish(event, this);
  }
}
