/**
 * The small helpers CopilotKit 1.75 exports beside its endpoints, compared with its own for the
 * same inputs: `toFetchCorsConfig`, `resolveAgents`, `isIntelligenceRuntime`,
 * `supportsLocalThreadEndpoints`; and `createNodeFetchHandler` on a real `node:http` server.
 */
process.env.COPILOTKIT_TELEMETRY_DISABLED = "true";

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import * as reference from "@copilotkit/runtime/v2";
import * as referenceNode from "@copilotkit/runtime/v2/node";
import {
  CopilotRuntime,
  InMemoryAgentRunner,
  createCopilotRuntimeHandler,
  isIntelligenceRuntime,
  resolveAgents,
  supportsLocalThreadEndpoints,
  toFetchCorsConfig,
  type AgentRunner,
} from "../../src/index.js";
import { SqliteAgentRunner } from "../../src/sqlite.js";
import { createCopilotNodeHandler, createNodeFetchHandler } from "../../src/adapters/node.js";
import { ScriptedAgent, textReply } from "../helpers/agents.js";
import { runInput } from "../helpers/inputs.js";
import { parseSse } from "../helpers/sse.js";

describe("toFetchCorsConfig returns what 1.75's returns", () => {
  const ORIGINS = ["https://app.example", "https://other.example", "null", ""];

  /** A config as data: function origins become their answers for a few request origins. */
  const observe = (config: { origin?: unknown; credentials?: unknown }) => ({
    keys: Object.keys(config).sort(),
    credentials: config.credentials,
    origin: typeof config.origin === "function" ? ORIGINS.map((origin) => (config.origin as (o: string) => unknown)(origin)) : config.origin,
  });

  it.each([
    ["a string origin", { origin: "https://app.example" }],
    ["a string origin with credentials", { origin: "https://app.example", credentials: true }],
    ["a list of origins, credentials false", { origin: ["https://a.example", "https://b.example"], credentials: false }],
    ["the wildcard", { origin: "*" }],
    ["a function returning the origin or undefined", { origin: (origin: string) => (origin.startsWith("https://app") ? origin : undefined) }],
    ["a function returning null", { origin: () => null, credentials: true }],
    ["a function reading its second argument", { origin: (origin: string, c: unknown) => (c === undefined ? `${origin}#no-context` : "context") }],
  ] as Array<[string, reference.CopilotEndpointCorsConfig]>)("%s", (_, config) => {
    expect(observe(toFetchCorsConfig(config))).toEqual(observe(reference.toFetchCorsConfig(config)));
  });

  it("the result configures the fetch handler's CORS", async () => {
    const handler = createCopilotRuntimeHandler({
      runtime: new CopilotRuntime({ agents: { default: new ScriptedAgent({ script: textReply("hi") }) } }),
      basePath: "/api",
      cors: toFetchCorsConfig({ origin: (origin) => (origin === "https://app.example" ? origin : null), credentials: true }),
    });
    const allowed = await handler(new Request("http://h/api/info", { headers: { origin: "https://app.example" } }));
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(allowed.headers.get("access-control-allow-credentials")).toBe("true");
    const refused = await handler(new Request("http://h/api/info", { headers: { origin: "https://evil.example" } }));
    expect(refused.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("a non-object is a TypeError naming the expected shape", () => {
    expect(() => toFetchCorsConfig(undefined as never)).toThrow(/CORS config object/);
  });
});

describe("resolveAgents behaves as 1.75's", () => {
  const agent = new ScriptedAgent({ script: textReply("hi") });
  const request = new Request("http://h/info", { headers: { "x-tenant": "acme" } });

  it.each([
    ["a record", () => ({ default: agent })],
    ["a promise of a record", () => Promise.resolve({ default: agent })],
    ["a factory reading the request", () => ({ request: r }: { request: Request }) => ({ [r.headers.get("x-tenant")!]: agent })],
    ["an async factory", () => async () => ({ default: agent })],
  ] as Array<[string, () => never]>)("%s", async (_, make) => {
    const ours = await resolveAgents(make(), request);
    const theirs = await reference.resolveAgents(make(), request);
    expect(Object.keys(ours)).toEqual(Object.keys(theirs));
    expect(Object.values(ours)).toEqual(Object.values(theirs));
  });

  it("a factory without a request rejects in both, a record without one resolves", async () => {
    const factory = () => ({ default: agent });
    await expect(reference.resolveAgents(factory as never)).rejects.toThrow(/request/);
    await expect(resolveAgents(factory)).rejects.toThrow(/request/);
    expect(await resolveAgents({ default: agent })).toEqual({ default: agent });
  });
});

describe("isIntelligenceRuntime", () => {
  it("is false for our runtime, in ours and in 1.75's, and true for an Intelligence-shaped one in both", () => {
    const runtime = new CopilotRuntime({ agents: {} });
    expect(isIntelligenceRuntime(runtime)).toBe(false);
    expect(reference.isIntelligenceRuntime(runtime as never)).toBe(false);
    const intelligent = { mode: "intelligence", intelligence: {} };
    expect(isIntelligenceRuntime(intelligent)).toBe(true);
    expect(reference.isIntelligenceRuntime(intelligent as never)).toBe(true);
    const sseRuntime = new reference.CopilotRuntime({ agents: {} as never });
    expect(isIntelligenceRuntime(sseRuntime)).toBe(reference.isIntelligenceRuntime(sseRuntime));
  });
});

describe("supportsLocalThreadEndpoints", () => {
  /** A runner with only the four required methods: it cannot list threads. */
  const bare = { run: () => undefined, connect: () => undefined, isRunning: async () => false, stop: async () => false } as unknown as AgentRunner;

  it("is true for runners that serve the thread routes (ours and 1.75's in-memory runner)", () => {
    expect(supportsLocalThreadEndpoints(new InMemoryAgentRunner())).toBe(true);
    const sqlite = new SqliteAgentRunner({ path: ":memory:" });
    expect(supportsLocalThreadEndpoints(sqlite)).toBe(true);
    const theirs = new reference.InMemoryAgentRunner();
    expect(supportsLocalThreadEndpoints(theirs as never)).toBe(reference.supportsLocalThreadEndpoints(theirs));
    expect(reference.supportsLocalThreadEndpoints(theirs)).toBe(true);
  });

  it("is false for a runner without thread queries, in both", () => {
    expect(supportsLocalThreadEndpoints(bare)).toBe(false);
    expect(reference.supportsLocalThreadEndpoints(bare as never)).toBe(false);
  });

  it("honours CopilotKit's flag both ways", () => {
    expect(supportsLocalThreadEndpoints(Object.assign(Object.create(bare), { ɵsupportsLocalThreadEndpoints: true }))).toBe(true);
    const optedOut = Object.assign(new InMemoryAgentRunner(), { ɵsupportsLocalThreadEndpoints: false });
    expect(supportsLocalThreadEndpoints(optedOut)).toBe(false);
  });
});

describe("createNodeFetchHandler", () => {
  let server: Server | undefined;
  afterAll(() => new Promise<void>((done) => (server ? server.close(() => done()) : done())));

  it("is createCopilotNodeHandler under its deprecated name, as in 1.75", () => {
    expect(createNodeFetchHandler).toBe(createCopilotNodeHandler);
    expect(referenceNode.createNodeFetchHandler).toBe(referenceNode.createCopilotNodeHandler);
  });

  it("serves a fetch handler from a real node:http server: /info and a streamed run", async () => {
    const runtime = new CopilotRuntime({ agents: { default: new ScriptedAgent({ script: textReply("Hello there") }) } });
    server = createServer(createNodeFetchHandler(createCopilotRuntimeHandler({ runtime, basePath: "/api/copilotkit" })));
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/copilotkit`;
    const info = await fetch(`${base}/info`);
    expect(info.status).toBe(200);
    expect(Object.keys(((await info.json()) as { agents: object }).agents)).toEqual(["default"]);
    const run = await fetch(`${base}/agent/default/run`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(runInput({ threadId: "t1", runId: "r1", messages: [{ id: "m1", role: "user", content: "hi" }] })),
    });
    expect(run.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const events = parseSse(await run.text());
    expect(events[0].type).toBe("RUN_STARTED");
    expect(events.at(-1)?.type).toBe("RUN_FINISHED");
    expect(events.filter((event) => event.type === "TEXT_MESSAGE_CONTENT").map((event) => event.delta).join("")).toBe("Hello there");
  });
});
