/**
 * `createCopilotHonoHandler` against `@copilotkit/runtime@1.75.0`'s own, over HTTP: the same
 * options (mode, CORS in CopilotKit's Hono shape) give the same answers on the routes a client
 * uses: status, content type, CORS headers, the `/info` agents and a run's event sequence.
 * Known, documented differences of the core handler are left out (see the README's table of
 * deliberate differences): a multi-route endpoint here also answers the single-route envelope at
 * `POST basePath`, and a single-route endpoint answers 404 below `basePath` where CopilotKit
 * treats every path as the envelope.
 */
process.env.COPILOTKIT_TELEMETRY_DISABLED = "true";

import { afterAll, describe, expect, it } from "vitest";
import * as reference from "@copilotkit/runtime/v2";
import { CopilotRuntime, CopilotSseRuntime, createCopilotEndpoint, createCopilotHonoHandler } from "../../src/index.js";
import { ScriptedAgent, textReply } from "../helpers/agents.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { runInput } from "../helpers/inputs.js";
import { parseSse } from "../helpers/sse.js";

const BASE = "/api/copilotkit";
const servers: TestServer[] = [];
afterAll(() => Promise.all(servers.map((server) => server.close())));

type HonoOptions = { mode?: "multi-route" | "single-route"; cors?: reference.CopilotEndpointCorsConfig };

const agents = () => ({ default: new ScriptedAgent({ script: textReply("Hello there") }) });

/** The same endpoint twice: CopilotKit's and ours, each over real HTTP. */
async function pair(options: HonoOptions = {}): Promise<{ theirs: string; ours: string }> {
  const theirApp = reference.createCopilotHonoHandler({ runtime: new reference.CopilotRuntime({ agents: agents() as never }), basePath: BASE, ...options });
  const ourApp = createCopilotHonoHandler({ runtime: new CopilotRuntime({ agents: agents() }), basePath: BASE, ...options });
  const theirs = await startServer({ fetch: (request) => theirApp.fetch(request), basePath: BASE });
  const ours = await startServer({ fetch: (request) => ourApp.fetch(request), basePath: BASE });
  servers.push(theirs, ours);
  return { theirs: theirs.baseUrl, ours: ours.baseUrl };
}

interface Answer {
  status: number;
  contentType: string | null;
  allowOrigin: string | null;
  allowCredentials: string | null;
  /** For JSON: the agent names of an /info answer, else the error code; for SSE: the event types. */
  summary: unknown;
}

async function ask(base: string, path: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(`${base}${path}`, init);
  const text = await response.text();
  const contentType = response.headers.get("content-type");
  let summary: unknown = null;
  if (contentType?.startsWith("text/event-stream")) summary = parseSse(text).map((event) => event.type);
  else if (contentType?.startsWith("application/json")) {
    const body = JSON.parse(text) as { agents?: Record<string, unknown>; error?: unknown };
    summary = body.agents ? Object.keys(body.agents) : (body.error !== undefined ? "error" : "other");
  }
  return {
    status: response.status,
    contentType: contentType?.split(";")[0] ?? null,
    allowOrigin: response.headers.get("access-control-allow-origin"),
    allowCredentials: response.headers.get("access-control-allow-credentials"),
    summary,
  };
}

const json = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json", ...headers },
  body: JSON.stringify(body),
});

async function expectSame(options: HonoOptions, path: string, init: RequestInit = {}): Promise<Answer> {
  const { theirs, ours } = await pair(options);
  const [expected, actual] = await Promise.all([ask(theirs, path, init), ask(ours, path, init)]);
  expect(actual).toEqual(expected);
  return actual;
}

describe("createCopilotHonoHandler answers as @copilotkit/runtime 1.75's does", () => {
  it("GET /info lists the agents, with permissive CORS by default", async () => {
    const answer = await expectSame({}, `${BASE}/info`, { headers: { origin: "https://app.example" } });
    expect(answer).toMatchObject({ status: 200, allowOrigin: "*", summary: ["default"] });
  });

  it("POST /agent/:id/run streams the same event sequence", async () => {
    const answer = await expectSame({}, `${BASE}/agent/default/run`, json(runInput({ threadId: "t1", runId: "r1", messages: [{ id: "m1", role: "user", content: "hi" }] })));
    expect(answer.contentType).toBe("text/event-stream");
    expect(answer.summary).toEqual(expect.arrayContaining(["RUN_STARTED", "TEXT_MESSAGE_CONTENT", "RUN_FINISHED"]));
  });

  it("an unknown agent is a JSON 404", async () => {
    const answer = await expectSame({}, `${BASE}/agent/missing/run`, json(runInput({ threadId: "t1", runId: "r1", messages: [] })));
    expect(answer).toMatchObject({ status: 404, contentType: "application/json" });
  });

  it("a wrong method on a route is a JSON 405", async () => {
    expect((await expectSame({}, `${BASE}/info`, { method: "POST" })).status).toBe(405);
  });

  it("a preflight is answered 204 with the CORS headers", async () => {
    const answer = await expectSame({}, `${BASE}/agent/default/run`, {
      method: "OPTIONS",
      headers: { origin: "https://app.example", "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
    });
    expect(answer).toMatchObject({ status: 204, allowOrigin: "*" });
  });

  it.each([
    ["an allowed origin (string)", { origin: "https://app.example", credentials: true }, "https://app.example"],
    ["an origin not allowed (string)", { origin: "https://app.example", credentials: true }, "https://evil.example"],
    ["an allowed origin (list)", { origin: ["https://a.example", "https://app.example"] }, "https://app.example"],
    ["an origin chosen by a function", { origin: (origin: string) => (origin.endsWith(".example") ? origin : null), credentials: true }, "https://app.example"],
    ["an origin refused by a function", { origin: (origin: string) => (origin.endsWith(".example") ? origin : undefined) }, "https://app.test"],
  ])("CopilotKit's Hono CORS config: %s", async (_, cors, origin) => {
    const { theirs, ours } = await pair({ cors });
    const init = { headers: { origin } };
    const [expected, actual] = await Promise.all([ask(theirs, `${BASE}/info`, init), ask(ours, `${BASE}/info`, init)]);
    // What the browser decides. For an origin a fixed string does not match, 1.75 still sends
    // that string (the browser refuses it) and we send no allow header (the browser refuses it).
    const verdict = (answer: Answer) => ({
      status: answer.status,
      summary: answer.summary,
      browserAllows: answer.allowOrigin === "*" || answer.allowOrigin === origin,
      credentials: answer.allowOrigin === origin ? answer.allowCredentials : null,
    });
    expect(verdict(actual)).toEqual(verdict(expected));
  });

  it("mode single-route serves the envelope at POST basePath: info and a run", async () => {
    const info = await expectSame({ mode: "single-route" }, BASE, json({ method: "info" }));
    expect(info).toMatchObject({ status: 200, summary: ["default"] });
    const run = await expectSame({ mode: "single-route" }, BASE, json({ method: "agent/run", params: { agentId: "default" }, body: runInput({ threadId: "t2", runId: "r2", messages: [] }) }));
    expect(run.summary).toEqual(expect.arrayContaining(["RUN_STARTED", "RUN_FINISHED"]));
  });

  it("mode single-route serves no REST route: a GET under basePath is 405, as in 1.75", async () => {
    const { theirs, ours } = await pair({ mode: "single-route" });
    const [expected, actual] = await Promise.all([ask(theirs, `${BASE}/info`), ask(ours, `${BASE}/info`)]);
    expect(expected.status).toBe(405);
    expect(actual).toMatchObject({ status: 405, contentType: "application/json" });
  });

  it("mode single-route refuses GET basePath with 405", async () => {
    expect((await expectSame({ mode: "single-route" }, BASE)).status).toBe(405);
  });

  it("createCopilotEndpoint is the same function, as in 1.75", () => {
    expect(createCopilotEndpoint).toBe(createCopilotHonoHandler);
    expect(reference.createCopilotEndpoint).toBe(reference.createCopilotHonoHandler);
  });

  it("serves a CopilotSseRuntime, whose mode is sse like CopilotRuntime's", async () => {
    const runtime = new CopilotSseRuntime({ agents: agents() });
    expect(runtime.mode).toBe("sse");
    expect(new CopilotRuntime({ agents: agents() }).mode).toBe(new reference.CopilotRuntime({ agents: agents() as never }).mode);
    const app = createCopilotHonoHandler({ runtime, basePath: BASE });
    const response = await app.fetch(new Request(`http://localhost${BASE}/info`));
    expect(response.status).toBe(200);
    expect(Object.keys(((await response.json()) as { agents: object }).agents)).toEqual(["default"]);
  });
});
