import type { Logger } from "../../logger.js";
import { serializeFrame, serializeReply } from "./codec.js";
import type { ChannelContext, ChannelHandler, JoinResult, PhoenixTransportKind, Reply, SocketHandler } from "./types.js";

/** Why a channel ended; passed once to `ChannelHandler.terminate`. */
export type EndReason = "leave" | "closed" | "replaced" | "server";

/** What a channel needs from the socket session it lives on. */
export interface ChannelOwner {
  readonly socketId: string;
  readonly transport: PhoenixTransportKind;
  readonly bufferedAmount: number;
  readonly log: Logger;
  /** Queues one serialized frame for the client; false when the socket is gone. */
  send(frame: string): boolean;
  /** The channel ended: drop it from the topic table if it is still the topic's channel. */
  forget(channel: Channel<unknown>): void;
}

/** Pushes queued behind a slow `handleIn` on one channel before new ones are refused. */
const MAX_QUEUED_MESSAGES = 1000;

/**
 * One join of one topic on one socket: the `ChannelContext` handed to the platform, and the
 * bookkeeping around it. Client messages for the channel run one at a time in arrival order
 * (a Phoenix channel is a process with a mailbox), starting with the join itself, so a
 * `handleIn` never overlaps another on the same channel and replies keep their order.
 *
 * Frames pushed while the join is still running are held and sent right after the join reply,
 * as the client only treats the channel as joined from that reply on.
 */
export class Channel<Assigns> implements ChannelContext<Assigns> {
  private state: "joining" | "joined" | "ended" = "joining";
  private handler: ChannelHandler | null = null;
  private endReason: EndReason | null = null;
  /** Frames pushed during the join, sent after its ok reply (dropped when it fails). */
  private held: string[] = [];
  private queue: Promise<void> = Promise.resolve();
  private queued = 0;
  /** The client sent phx_leave: whatever ends the channel now ends it as a leave. */
  leaving = false;

  constructor(
    private readonly owner: ChannelOwner,
    readonly topic: string,
    readonly joinRef: string,
    readonly assigns: Assigns,
  ) {}

  get socketId(): string {
    return this.owner.socketId;
  }

  get transport(): PhoenixTransportKind {
    return this.owner.transport;
  }

  get bufferedAmount(): number {
    return this.owner.bufferedAmount;
  }

  get ended(): boolean {
    return this.state === "ended";
  }

  push(event: string, payload: unknown): boolean {
    if (this.state === "ended") return false;
    const frame = serializeFrame(this.joinRef, null, this.topic, event, payload);
    if (this.state === "joining") {
      this.held.push(frame);
      return true;
    }
    return this.owner.send(frame);
  }

  close(): void {
    this.endFromServer("phx_close");
  }

  error(): void {
    this.endFromServer("phx_error");
  }

  /**
   * Runs the platform's `join` as the first message of the channel and answers it. Called once,
   * by the session, right after it registered the channel for its topic.
   */
  start(socketHandler: SocketHandler<Assigns>, payload: Record<string, unknown>, ref: string | null): void {
    this.enqueue(async () => {
      let result: JoinResult;
      try {
        result = await socketHandler.join(this.topic, payload, this);
        if (!isJoinResult(result)) throw new TypeError("join() must return { ok: true, handler } or { ok: false, response }");
      } catch (error) {
        this.owner.log.error({ err: error, topic: this.topic, socketId: this.socketId }, "Phoenix channel join failed");
        this.failJoin(ref, { reason: "join crashed" });
        return;
      }
      if (!result.ok) {
        this.failJoin(ref, result.response ?? {});
        return;
      }
      this.handler = result.handler;
      // Ended while joining: by the socket closing, a newer join or a leave, nothing reaches the
      // client any more; by close()/error() from the platform, the client still gets the reply
      // and then the close or error frame that was held.
      if (this.ended) {
        if (this.endReason === "server") this.sendJoinReply(ref, result.response);
        this.callTerminate(this.endReason ?? "closed");
        return;
      }
      this.state = "joined";
      this.sendJoinReply(ref, result.response);
    });
  }

  /** A client push on this channel: the platform's `handleIn`, answered with a `phx_reply`. */
  receive(joinRef: string | null, ref: string | null, event: string, payload: unknown): void {
    if (this.queued >= MAX_QUEUED_MESSAGES) {
      this.owner.send(serializeReply(joinRef, ref, this.topic, "error", { reason: "too many pending messages" }));
      return;
    }
    this.enqueue(async () => {
      if (this.state !== "joined" || this.handler === null) {
        this.owner.send(serializeReply(joinRef, ref, this.topic, "error", { reason: "unmatched topic" }));
        return;
      }
      let reply: Reply;
      try {
        reply = await this.handler.handleIn(event, payload);
        if (!isReply(reply)) throw new TypeError("handleIn() must return { status: 'ok' | 'error', response? }");
      } catch (error) {
        this.owner.log.error({ err: error, topic: this.topic, event, socketId: this.socketId }, "Phoenix channel handleIn failed");
        reply = { status: "error", response: { reason: "internal error" } };
      }
      // A channel ended meanwhile has nobody to answer: its client channel is closed or rejoining.
      if (this.ended) return;
      this.owner.send(serializeReply(joinRef, ref, this.topic, reply.status, reply.response ?? {}));
    });
  }

  /** The client's `phx_leave`: answered ok after the messages before it, then the channel ends. */
  leave(joinRef: string | null, ref: string | null): void {
    this.leaving = true;
    this.enqueue(() => {
      this.owner.send(serializeReply(joinRef, ref, this.topic, "ok", {}));
      this.end("leave");
    });
  }

  /**
   * Ends the channel without telling the client (it left, its socket is gone, or it joined the
   * topic again). `terminate` runs now if the join succeeded, or when a running join settles.
   */
  end(reason: EndReason): void {
    if (this.state === "ended") return;
    this.state = "ended";
    this.endReason = reason;
    this.held = [];
    this.owner.forget(this as Channel<unknown>);
    if (this.handler !== null) this.callTerminate(reason);
  }

  private endFromServer(event: "phx_close" | "phx_error"): void {
    if (this.state === "ended") return;
    // Phoenix sends these with the join's ref as both join_ref and ref.
    const frame = serializeFrame(this.joinRef, this.joinRef, this.topic, event, {});
    if (this.state === "joining") {
      const held = [...this.held, frame];
      this.end("server");
      this.held = held;
      return;
    }
    this.owner.send(frame);
    this.end("server");
  }

  private sendJoinReply(ref: string | null, response: Record<string, unknown> | undefined): void {
    this.owner.send(serializeReply(this.joinRef, ref, this.topic, "ok", response ?? {}));
    const held = this.held;
    this.held = [];
    for (const frame of held) this.owner.send(frame);
  }

  private failJoin(ref: string | null, response: Record<string, unknown>): void {
    const wasEnded = this.state === "ended";
    this.end("closed");
    this.held = [];
    // A join overtaken by a newer join, a leave or a closed socket has nobody left to answer.
    if (!wasEnded || this.endReason === "server") {
      this.owner.send(serializeReply(this.joinRef, ref, this.topic, "error", response));
    }
  }

  private callTerminate(reason: EndReason): void {
    const handler = this.handler;
    if (handler === null) return;
    try {
      handler.terminate(reason);
    } catch (error) {
      this.owner.log.error({ err: error, topic: this.topic, reason, socketId: this.socketId }, "Phoenix channel terminate failed");
    }
  }

  private enqueue(work: () => Promise<void> | void): void {
    this.queued += 1;
    this.queue = this.queue
      .then(work)
      .catch((error: unknown) => {
        this.owner.log.error({ err: error, topic: this.topic, socketId: this.socketId }, "Phoenix channel message failed");
      })
      .finally(() => {
        this.queued -= 1;
      });
  }
}

function isJoinResult(value: unknown): value is JoinResult {
  if (value === null || typeof value !== "object") return false;
  const result = value as { ok?: unknown; handler?: unknown; response?: unknown };
  if (result.ok === true) {
    const handler = result.handler as Partial<ChannelHandler> | null | undefined;
    return (
      handler !== null &&
      typeof handler === "object" &&
      typeof handler.handleIn === "function" &&
      typeof handler.terminate === "function" &&
      isOptionalRecord(result.response)
    );
  }
  return result.ok === false && isOptionalRecord(result.response);
}

function isReply(value: unknown): value is Reply {
  if (value === null || typeof value !== "object") return false;
  const reply = value as { status?: unknown; response?: unknown };
  return (reply.status === "ok" || reply.status === "error") && isOptionalRecord(reply.response);
}

function isOptionalRecord(value: unknown): boolean {
  return value === undefined || (value !== null && typeof value === "object" && !Array.isArray(value));
}
