import type { Logger } from "../../logger.js";
import { Channel, type ChannelOwner } from "./channel.js";
import { parseFrame, serializeReply } from "./codec.js";
import type { PhoenixTransportKind, SocketHandler } from "./types.js";

/** Where a session's outgoing frames go: one WebSocket, or one long-poll session's buffer. */
export interface SessionTransport {
  readonly kind: PhoenixTransportKind;
  /** Queues one serialized frame; false when the connection is gone. */
  send(frame: string): boolean;
  /** Bytes queued and not yet written (WebSocket) or not yet polled (long-poll). */
  readonly bufferedAmount: number;
}

export interface SessionOptions<Assigns> {
  /** Unique per socket; handed to channels as `socketId`. */
  id: string;
  /** What `connect` returned for this socket. */
  assigns: Assigns;
  handler: SocketHandler<Assigns>;
  transport: SessionTransport;
  log: Logger;
}

/**
 * The Phoenix channels protocol for one connected socket, whatever carries its frames: the
 * topic table, joins (a second join of a topic replaces the first), leaves, heartbeats on the
 * `phoenix` topic, and `phx_reply`s. A transport feeds it text frames with `receive` and calls
 * `end` once when the connection is gone, which ends every channel as `closed` (or `leave` for
 * one whose client already asked to leave).
 *
 * @example
 * ```ts
 * const session = new PhoenixSession({ id, assigns, handler, transport, log });
 * ws.on("message", (data) => session.receive(data.toString()));
 * ws.on("close", () => session.end());
 * ```
 */
export class PhoenixSession<Assigns> implements ChannelOwner {
  private readonly channels = new Map<string, Channel<Assigns>>();
  private closed = false;

  constructor(private readonly options: SessionOptions<Assigns>) {}

  get socketId(): string {
    return this.options.id;
  }

  get transport(): PhoenixTransportKind {
    return this.options.transport.kind;
  }

  get bufferedAmount(): number {
    return this.options.transport.bufferedAmount;
  }

  get log(): Logger {
    return this.options.log;
  }

  /** Channels joined or joining on this socket. */
  get channelCount(): number {
    return this.channels.size;
  }

  get ended(): boolean {
    return this.closed;
  }

  send(frame: string): boolean {
    return !this.closed && this.options.transport.send(frame);
  }

  forget(channel: Channel<unknown>): void {
    if (this.channels.get(channel.topic) === channel) this.channels.delete(channel.topic);
  }

  /** One text frame from the client. Never throws: a malformed frame is logged and dropped. */
  receive(text: string): void {
    if (this.closed) return;
    const parsed = parseFrame(text);
    if (!parsed.ok) {
      this.log.warn(
        { socketId: this.socketId, transport: this.transport, reason: parsed.reason, bytes: text.length },
        "Phoenix: dropped a malformed frame",
      );
      return;
    }
    const [joinRef, ref, topic, event, payload] = parsed.frame;
    if (topic === "phoenix" && event === "heartbeat") {
      this.send(serializeReply(joinRef, ref, topic, "ok", {}));
      return;
    }
    if (event === "phx_join") this.join(joinRef, ref, topic, payload);
    else if (event === "phx_leave") this.leave(joinRef, ref, topic);
    else this.push(joinRef, ref, topic, event, payload);
  }

  /** The connection is gone: every channel ends (`closed`, or `leave` when it was leaving). */
  end(): void {
    if (this.closed) return;
    this.closed = true;
    for (const channel of [...this.channels.values()]) channel.end(channel.leaving ? "leave" : "closed");
  }

  private join(joinRef: string | null, ref: string | null, topic: string, payload: unknown): void {
    // phoenix.js sends a join with join_ref = ref; older clients send only the ref.
    const channelJoinRef = joinRef ?? ref;
    if (channelJoinRef === null) {
      this.log.warn({ socketId: this.socketId, topic }, "Phoenix: dropped a phx_join without a ref");
      return;
    }
    if (payload === null || typeof payload !== "object" || Array.isArray(payload)) {
      this.send(serializeReply(channelJoinRef, ref, topic, "error", { reason: "join payload must be an object" }));
      return;
    }
    const existing = this.channels.get(topic);
    if (existing !== undefined) existing.end(existing.leaving ? "leave" : "replaced");
    const channel = new Channel(this, topic, channelJoinRef, this.options.assigns);
    this.channels.set(topic, channel);
    channel.start(this.options.handler, payload as Record<string, unknown>, ref);
  }

  private leave(joinRef: string | null, ref: string | null, topic: string): void {
    const channel = this.channels.get(topic);
    // Leaving a topic that is not joined is fine (Phoenix answers ok too).
    if (channel === undefined) {
      this.send(serializeReply(joinRef, ref, topic, "ok", {}));
      return;
    }
    // A leave for an earlier join raced a server close or a newer join: nothing to answer.
    if (joinRef !== null && joinRef !== channel.joinRef) return;
    channel.leave(joinRef, ref);
  }

  private push(joinRef: string | null, ref: string | null, topic: string, event: string, payload: unknown): void {
    const channel = this.channels.get(topic);
    if (channel === undefined || channel.leaving || (joinRef !== null && joinRef !== channel.joinRef)) {
      this.send(serializeReply(joinRef, ref, topic, "error", { reason: "unmatched topic" }));
      return;
    }
    channel.receive(joinRef, ref, event, payload);
  }
}
