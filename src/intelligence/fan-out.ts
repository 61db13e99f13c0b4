import type { ChannelContext } from "./phoenix/types.js";
import type { PlatformBusMessage } from "./bus.js";
import type { PlatformDeps } from "./context.js";
import type { StoredEvent } from "./store/types.js";

/** One joined `thread:` channel, as the fan-out sees it. */
export interface ThreadSubscriber {
  /** A stored event of the thread, in log order. May repeat what the subscriber replayed: it dedupes by position/seq. */
  deliver(event: StoredEvent): void;
  /** Runs of the thread that ended (their terminal event, if any, was delivered first). */
  runsEnded(runIds: readonly string[]): void;
  /** The thread was deleted. */
  threadDeleted(): void;
}

/** Anything with a `push` (a channel context), keyed for the local registries. */
type Pushable = Pick<ChannelContext<unknown>, "push">;

const PAGE = 256;

interface ThreadFeed {
  projectId: string;
  threadId: string;
  /** The id of the last event read from the store and delivered to `subscribers`. */
  cursor: string | null;
  subscribers: Set<ThreadSubscriber>;
  /** Joins still replaying: the feed must not be dropped under them. */
  joining: number;
  /** Every read of the store for this feed runs on this chain, one at a time. */
  chain: Promise<void>;
  pumpQueued: boolean;
}

/**
 * The local side of fan-out, one per platform instance: which `thread:` subscribers, runner
 * channels and `user_meta` sockets live here, and the bus subscription that wakes them.
 *
 * Each thread with local subscribers has one feed that reads new events from the store once per
 * wake-up and hands the same `StoredEvent` (whose JSON is already serialized) to every
 * subscriber, so N subscribers cost one query and zero extra serializations.
 */
export class FanOut {
  readonly #deps: PlatformDeps;
  readonly #feeds = new Map<string, ThreadFeed>();
  readonly #runners = new Map<string, Set<Pushable>>();
  readonly #userMeta = new Map<string, Set<Pushable>>();
  readonly #unsubscribe: () => void;

  constructor(deps: PlatformDeps) {
    this.#deps = deps;
    this.#unsubscribe = deps.bus.subscribe((message) => this.#onMessage(message));
  }

  /**
   * Adds a subscriber to the thread. `replay` runs first, on the feed's chain (no live delivery
   * interleaves with it); afterwards the subscriber receives every event stored after the feed's
   * cursor, which may overlap what it replayed.
   */
  async subscribeThread(projectId: string, threadId: string, subscriber: ThreadSubscriber, replay: () => Promise<void>): Promise<() => void> {
    const key = `${projectId}\u0000${threadId}`;
    let feed = this.#feeds.get(key);
    if (feed === undefined) {
      feed = { projectId, threadId, cursor: null, subscribers: new Set(), joining: 0, chain: Promise.resolve(), pumpQueued: false };
      this.#feeds.set(key, feed);
      const fresh = feed;
      // Start where the log ends now: the first subscriber's replay covers what came before.
      this.#enqueue(fresh, async () => {
        fresh.cursor = await this.#deps.store.latestEventId(projectId, threadId);
      });
    }
    const target = feed;
    target.joining++;
    let failure: unknown;
    await this.#enqueue(target, async () => {
      try {
        await replay();
        target.subscribers.add(subscriber);
      } catch (err) {
        failure = err;
      } finally {
        target.joining--;
      }
    });
    if (failure !== undefined) {
      this.#dropIfIdle(key, target);
      throw failure;
    }
    // Catch anything stored while the replay ran.
    this.#pump(target);
    return () => {
      target.subscribers.delete(subscriber);
      this.#dropIfIdle(key, target);
    };
  }

  /** Registers a joined runner channel for a run (stop relay). */
  addRunner(projectId: string, runId: string, channel: Pushable): () => void {
    return this.#add(this.#runners, `${projectId}\u0000${runId}`, channel);
  }

  hasLocalRunner(projectId: string, runId: string): boolean {
    return (this.#runners.get(`${projectId}\u0000${runId}`)?.size ?? 0) > 0;
  }

  /** Registers a joined `user_meta` channel of a user. */
  addUserMeta(projectId: string, userId: string, channel: Pushable): () => void {
    return this.#add(this.#userMeta, `${projectId}\u0000${userId}`, channel);
  }

  /** Pushes the stop signal to the run's runner channels on this instance; true when there was one. */
  relayStop(projectId: string, runId: string): boolean {
    const channels = this.#runners.get(`${projectId}\u0000${runId}`);
    if (channels === undefined || channels.size === 0) return false;
    for (const channel of channels) channel.push("ag-ui", { type: "CUSTOM", name: "stop", value: { reason: "stop_requested" } });
    return true;
  }

  /** Local thread subscribers, for tests and metrics. */
  threadSubscriberCount(projectId: string, threadId: string): number {
    return this.#feeds.get(`${projectId}\u0000${threadId}`)?.subscribers.size ?? 0;
  }

  /** Local `user_meta` channels of a user, for tests and metrics. */
  userMetaSubscriberCount(projectId: string, userId: string): number {
    return this.#userMeta.get(`${projectId}\u0000${userId}`)?.size ?? 0;
  }

  /** Waits for every queued store read (tests use it to reach a quiet point). */
  async settle(): Promise<void> {
    await Promise.all([...this.#feeds.values()].map((feed) => feed.chain));
  }

  close(): void {
    this.#unsubscribe();
    this.#feeds.clear();
    this.#runners.clear();
    this.#userMeta.clear();
  }

  #onMessage(message: PlatformBusMessage): void {
    switch (message.type) {
      case "thread_events": {
        const feed = this.#feeds.get(`${message.projectId}\u0000${message.threadId}`);
        if (feed === undefined) return;
        this.#pump(feed);
        const ended = message.endedRunIds;
        if (ended !== undefined && ended.length > 0) {
          this.#enqueue(feed, async () => {
            for (const subscriber of feed.subscribers) subscriber.runsEnded(ended);
          });
        }
        return;
      }
      case "thread_deleted": {
        const key = `${message.projectId}\u0000${message.threadId}`;
        const feed = this.#feeds.get(key);
        if (feed === undefined) return;
        this.#feeds.delete(key);
        for (const subscriber of feed.subscribers) subscriber.threadDeleted();
        feed.subscribers.clear();
        return;
      }
      case "resync":
        for (const feed of this.#feeds.values()) this.#pump(feed);
        return;
      case "stop_run":
        this.relayStop(message.projectId, message.runId);
        return;
      case "user_meta": {
        const channels = this.#userMeta.get(`${message.projectId}\u0000${message.userId}`);
        if (channels === undefined) return;
        const serialized = JSON.stringify(message.payload);
        for (const channel of channels) channel.push(message.event, serialized);
        return;
      }
    }
  }

  #pump(feed: ThreadFeed): void {
    if (feed.pumpQueued) return;
    feed.pumpQueued = true;
    this.#enqueue(feed, async () => {
      feed.pumpQueued = false;
      for (;;) {
        const page = await this.#deps.store.eventsAfter(feed.projectId, feed.threadId, feed.cursor, PAGE);
        if (page === undefined) {
          // The cursor's event is gone (the thread was deleted and re-created): restart at the end of the log.
          feed.cursor = await this.#deps.store.latestEventId(feed.projectId, feed.threadId);
          return;
        }
        for (const event of page) {
          for (const subscriber of feed.subscribers) subscriber.deliver(event);
          feed.cursor = event.id;
        }
        if (page.length < PAGE) return;
      }
    });
  }

  #enqueue(feed: ThreadFeed, task: () => Promise<void>): Promise<void> {
    const next = feed.chain.then(task).catch((err: unknown) => {
      this.#deps.log.error({ err, threadId: feed.threadId }, "Intelligence: thread fan-out failed");
    });
    feed.chain = next;
    return next;
  }

  #dropIfIdle(key: string, feed: ThreadFeed): void {
    if (feed.subscribers.size === 0 && feed.joining === 0 && this.#feeds.get(key) === feed) this.#feeds.delete(key);
  }

  #add(registry: Map<string, Set<Pushable>>, key: string, channel: Pushable): () => void {
    let set = registry.get(key);
    if (set === undefined) registry.set(key, (set = new Set()));
    set.add(channel);
    return () => {
      const current = registry.get(key);
      if (current === undefined) return;
      current.delete(channel);
      if (current.size === 0) registry.delete(key);
    };
  }
}
