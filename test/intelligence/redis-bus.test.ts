/**
 * The Redis PlatformBus on the local Redis: two buses ("instances") on one channel; delivery
 * across, local delivery exactly once, a large message, other channels isolated, and recovery
 * (resync, then hearing again) after the subscribing connection is killed server-side.
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import type { PlatformBusMessage } from "../../src/intelligence/bus.js";
import { RedisPlatformBus } from "../../src/intelligence/redis-bus.js";
import { eventually, quietLogger } from "../helpers/intelligence.js";
import { REDIS_URL, findRedis } from "../helpers/redis.js";

const available = await findRedis();
if (!available && process.env.CI !== "true") console.warn(`\n*** Redis is unreachable (${REDIS_URL}): SKIPPING the Redis platform bus tests. Set CI=true to make this a failure. ***\n`);

describe.skipIf(!available && process.env.CI !== "true")("Redis platform bus", () => {
  const open: RedisPlatformBus[] = [];
  afterEach(async () => {
    for (const bus of open.splice(0)) await bus.close();
  });

  function start(channel: string) {
    const bus = new RedisPlatformBus({ url: REDIS_URL, channel, logger: quietLogger(), redisOptions: { retryStrategy: () => 20 } });
    open.push(bus);
    const received: PlatformBusMessage[] = [];
    let resyncs = 0;
    bus.subscribe((message) => {
      if (message.type === "resync") resyncs++;
      else received.push(message);
    });
    return { bus, received, resyncs: () => resyncs };
  }

  it("rejects options without a url or client", () => {
    expect(() => new RedisPlatformBus({} as never)).toThrow(/url/);
  });

  it("delivers across instances, to its own listeners once, large messages whole, and nothing to other channels", async () => {
    const channel = `cpki-test:${randomUUID()}`;
    const a = start(channel);
    const b = start(channel);
    const other = start(`${channel}:other`);
    await Promise.all([a.bus.ready, b.bus.ready, other.bus.ready]);
    const big: PlatformBusMessage = { type: "user_meta", projectId: "7", userId: "alice", event: "thread_metadata", payload: { operation: "renamed", thread: { id: "t", name: "x".repeat(100_000) } } };
    await a.bus.publish({ type: "thread_events", projectId: "7", threadId: "t-1" });
    await a.bus.publish(big);
    await eventually(() => expect(b.received).toHaveLength(2));
    expect(b.received[1]).toEqual(big);
    await eventually(() => expect(a.received).toHaveLength(2));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(a.received).toHaveLength(2);
    expect(other.received).toEqual([]);
  });

  it("after its subscribing connection is killed, the bus resyncs its listeners and hears again", async () => {
    const channel = `cpki-test:${randomUUID()}`;
    const a = start(channel);
    const b = start(channel);
    await Promise.all([a.bus.ready, b.bus.ready]);
    const before = b.resyncs();
    const admin = new Redis(REDIS_URL);
    try {
      const list = (await admin.client("LIST")) as string;
      const line = list.split("\n").find((entry) => entry.includes(`name=${b.bus.connectionName} `));
      expect(line).toBeDefined();
      const id = /id=(\d+)/.exec(line!)![1];
      await admin.client("KILL", "ID", id);
    } finally {
      admin.disconnect();
    }
    await eventually(() => expect(b.resyncs()).toBeGreaterThan(before));
    await a.bus.publish({ type: "thread_deleted", projectId: "7", threadId: "after-kill" });
    await eventually(() => expect(b.received).toEqual([{ type: "thread_deleted", projectId: "7", threadId: "after-kill" }]));
  });
});
