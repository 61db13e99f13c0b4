/**
 * `CopilotKitIntelligence` and the Intelligence-mode constructor checks, next to CopilotKit
 * 1.75's: the same URL derivation for every shape of `wsUrl`, the same refusals (blank key,
 * `runner` beside `intelligence`, no `identifyUser`), the same REST requests (headers, bodies),
 * and the entitlement cache (one request for concurrent callers, 30 s for an active grant, 5 s
 * for anything else).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { ScriptedAgent, textReply } from "../helpers/agents.js";
import { type FakePlatform, startFakePlatform } from "../helpers/fake-intelligence-platform.js";
import { disableCopilotKitTelemetry } from "../helpers/runtimes.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Untyped = any;

let theirs: Untyped;
let ours: Untyped;
let platform: FakePlatform;

beforeAll(async () => {
  disableCopilotKitTelemetry();
  theirs = await import("@copilotkit/runtime/v2");
  ours = await import("../../src/index.js");
  platform = await startFakePlatform();
});
afterAll(() => platform.close());
afterEach(() => vi.useRealTimers());

const both = () => [theirs, ours] as const;

describe("new CopilotKitIntelligence(config)", () => {
  it.each([
    ["a bare base", "wss://rt.example.com"],
    ["a trailing slash", "wss://rt.example.com/"],
    ["a path prefix", "wss://rt.example.com/intel"],
    ["the runner plane", "wss://rt.example.com/runner"],
    ["the client plane", "wss://rt.example.com/client/"],
    ["the channels plane", "wss://rt.example.com/x/channels"],
    ["surrounding blanks", "  ws://localhost:4000  "],
  ])("derives the runner and client sockets from %s as 1.75 does", (_, wsUrl) => {
    const [a, b] = both().map((m) => new m.CopilotKitIntelligence({ apiUrl: "https://api.example.com/", wsUrl, apiKey: "cpk-1_x" }));
    const urls = (i: Untyped) => [i.ɵgetApiUrl(), i.ɵgetRunnerWsUrl(), i.ɵgetClientWsUrl(), i.ɵgetChannelsWsUrl(), i.ɵgetRunnerAuthToken()];
    expect(urls(b)).toEqual(urls(a));
  });

  it("defaults blank or missing URLs to CopilotKit's managed platform, as 1.75", () => {
    for (const config of [{ apiKey: "k" }, { apiKey: "k", apiUrl: " ", wsUrl: "" }, { apiKey: "k", apiUrl: "https://self.example.com" }]) {
      const [a, b] = both().map((m) => new m.CopilotKitIntelligence(config));
      expect([b.ɵgetApiUrl(), b.ɵgetClientWsUrl()]).toEqual([a.ɵgetApiUrl(), a.ɵgetClientWsUrl()]);
    }
  });

  it.each([[""], ["   "], [undefined], [42]])("refuses the apiKey %j as 1.75 does", (apiKey) => {
    for (const m of both()) expect(() => new m.CopilotKitIntelligence({ apiKey } as Untyped)).toThrow(/apiKey` is required and cannot be blank/);
  });
});

describe("new CopilotRuntime({ intelligence })", () => {
  const agents = () => ({ default: new ScriptedAgent({ script: textReply("hi") }) });
  const identifyUser = () => ({ id: "u", name: "U" });

  it("is in Intelligence mode with 1.75's defaults and clamps", () => {
    for (const m of both()) {
      const intelligence = new m.CopilotKitIntelligence({ apiUrl: platform.apiUrl, wsUrl: platform.wsUrl, apiKey: platform.apiKey });
      const runtime = new m.CopilotRuntime({ agents: agents(), intelligence, identifyUser });
      expect([runtime.mode, m.isIntelligenceRuntime(runtime), runtime.generateThreadNames, runtime.lockTtlSeconds, runtime.lockHeartbeatIntervalSeconds]).toEqual(["intelligence", true, true, 20, 15]);
      expect(runtime.runner.constructor.name).toBe("IntelligenceAgentRunner");
      const clamped = new m.CopilotRuntime({ agents: agents(), intelligence, identifyUser, lockTtlSeconds: 99_999, lockHeartbeatIntervalSeconds: 99_999, generateThreadNames: false });
      expect([clamped.lockTtlSeconds, clamped.lockHeartbeatIntervalSeconds, clamped.generateThreadNames]).toEqual([3600, 3000, false]);
      const named = new m.CopilotIntelligenceRuntime({ agents: agents(), intelligence, identifyUser });
      expect(named.mode).toBe("intelligence");
    }
  });

  it("refuses `runner` beside `intelligence`, and a runtime without `identifyUser`, with 1.75's messages", () => {
    const messages = both().map((m) => {
      const intelligence = new m.CopilotKitIntelligence({ apiUrl: platform.apiUrl, wsUrl: platform.wsUrl, apiKey: platform.apiKey });
      const caught = (fn: () => unknown) => {
        try {
          fn();
          return "no error";
        } catch (error) {
          return (error as Error).message;
        }
      };
      return [
        caught(() => new m.CopilotRuntime({ agents: agents(), intelligence, identifyUser, runner: new m.InMemoryAgentRunner() })),
        caught(() => new m.CopilotRuntime({ agents: agents(), intelligence })),
      ];
    });
    expect(messages[1]).toEqual(messages[0]);
    expect(messages[1][0]).toMatch(/auto-wires its own `runner`/);
  });
});

describe("CopilotKitIntelligence's REST calls", () => {
  it("send the same method, path, headers and body as 1.75's for every call", async () => {
    const record = async (m: Untyped) => {
      const client = new m.CopilotKitIntelligence({ apiUrl: platform.apiUrl, wsUrl: platform.wsUrl, apiKey: platform.apiKey });
      const from = platform.calls.length;
      const tolerate = (p: Promise<unknown>) => p.catch(() => undefined);
      await tolerate(client.getOrCreateThread({ threadId: "t/1", userId: "u1", agentId: "a", name: "N" }));
      await tolerate(client.listThreads({ userId: "u1", agentId: "a", includeArchived: true, limit: 3, cursor: "c" }));
      await tolerate(client.updateThread({ threadId: "t/1", userId: "u1", agentId: "a", updates: { name: "x" } }));
      await tolerate(client.archiveThread({ threadId: "t/1", userId: "u1", agentId: "a" }));
      await tolerate(client.getThreadMessages({ threadId: "t/1", userId: "u1" }));
      await tolerate(client.getThreadEvents({ threadId: "t/1" }));
      await tolerate(client.getThreadState({ threadId: "t/1" }));
      await tolerate(client.ɵsubscribeToThreads({ userId: "u1" }));
      await tolerate(client.ɵacquireThreadLock({ threadId: "t/1", runId: "r", userId: "u1", agentId: "a", ttlSeconds: 20, lockKeyPrefix: "p" }));
      await tolerate(client.ɵrenewThreadLock({ threadId: "t/1", runId: "r", ttlSeconds: 20 }));
      await tolerate(client.ɵcleanupThreadLock({ threadId: "t/1", runId: "r" }));
      await tolerate(client.ɵconnectThread({ threadId: "t/1", userId: "u1", agentId: "a" }));
      await tolerate(client.deleteThread({ threadId: "t/1", userId: "u1", agentId: "a" }));
      return platform.calls.slice(from).map((c) => ({ method: c.method, path: c.path, query: c.query, body: c.body, authorization: c.authorization, contentType: c.contentType }));
    };
    const theirCalls = await record(theirs);
    const ourCalls = await record(ours);
    expect(ourCalls).toEqual(theirCalls);
    expect(ourCalls.length).toBeGreaterThanOrEqual(14);
  });

  it("throw PlatformRequestError with the platform's status", async () => {
    const client = new ours.CopilotKitIntelligence({ apiUrl: platform.apiUrl, wsUrl: platform.wsUrl, apiKey: platform.apiKey });
    const error = await client.getThread({ threadId: "missing", userId: "u" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ours.PlatformRequestError);
    expect(error.status).toBe(404);
    const unauthorized = await new ours.CopilotKitIntelligence({ apiUrl: platform.apiUrl, wsUrl: platform.wsUrl, apiKey: "cpk-1_wrong" }).listThreads({ userId: "u", agentId: "a" }).catch((e: unknown) => e);
    expect(unauthorized.status).toBe(401);
  });
});

describe("getRuntimeEntitlements()", () => {
  async function counted(answer: () => { status: number; body?: unknown }) {
    const fake = await startFakePlatform();
    let calls = 0;
    fake.answer("GET /api/entitlements/runtime", () => (calls++, answer()));
    const client = new ours.CopilotKitIntelligence({ apiUrl: fake.apiUrl, wsUrl: fake.wsUrl, apiKey: fake.apiKey });
    return { fake, client, calls: () => calls };
  }

  it("shares one request between concurrent callers and keeps an active grant 30 s", async () => {
    const { fake, client, calls } = await counted(() => ({ status: 200, body: { status: "ready", entitlement: { active: true, source: "selfHostedDeploymentLicense", features: {}, limits: {} } } }));
    try {
      const [a, b] = await Promise.all([client.getRuntimeEntitlements(), client.getRuntimeEntitlements()]);
      expect(a).toEqual(b);
      expect(calls()).toBe(1);
      a.entitlement.features.injected = true; // a caller's copy: the cache is untouched
      expect((await client.getRuntimeEntitlements()).entitlement.features).toEqual({});
      vi.useFakeTimers({ toFake: ["Date"] });
      vi.setSystemTime(Date.now() + 29_000);
      await client.getRuntimeEntitlements();
      expect(calls()).toBe(1);
      vi.setSystemTime(Date.now() + 2_000);
      await client.getRuntimeEntitlements();
      expect(calls()).toBe(2);
    } finally {
      vi.useRealTimers();
      await fake.close();
    }
  });

  it("keeps a failure 5 s (rethrown meanwhile), then asks again", async () => {
    const { fake, client, calls } = await counted(() => ({ status: 503, body: { error: "down" } }));
    try {
      const first = await client.getRuntimeEntitlements().catch((e: unknown) => e);
      expect(first).toMatchObject({ status: 503, retryable: true });
      await client.getRuntimeEntitlements().catch(() => undefined);
      expect(calls()).toBe(1);
      vi.useFakeTimers({ toFake: ["Date"] });
      vi.setSystemTime(Date.now() + 5_001);
      await client.getRuntimeEntitlements().catch(() => undefined);
      expect(calls()).toBe(2);
    } finally {
      vi.useRealTimers();
      await fake.close();
    }
  });
});
