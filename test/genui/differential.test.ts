/**
 * `a2ui`, `openGenerativeUI` and `mcpApps` side by side with @copilotkit/runtime 1.75.0: the same
 * options and the same scripted agent on both runtimes must give the same `/info` and the same
 * events, the activity events the middlewares inject included. Ids the middlewares mint at random
 * (synthetic tool results, MCP Apps activities) are replaced by their order of appearance.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCopilotEndpoint, createCopilotEndpointSingleRoute } from "../../src/adapters/hono.js";
import { CopilotRuntime, type CopilotRuntimeOptions } from "../../src/runtime.js";
import { isA2UIEnabled } from "../../src/index.js";
import { AgentRecorder, ScriptedAgent, type Script } from "../helpers/agents.js";
import { a2uiSurfaceReply, callToolIfOffered, sandboxedUiReply } from "../helpers/genui.js";
import { startMcpAppsServer, WEATHER_UI_URI, type McpAppsServer } from "../helpers/mcp-apps-server.js";
import { parseSse } from "../helpers/sse.js";
import { runInput } from "../helpers/inputs.js";

process.env.COPILOTKIT_TELEMETRY_DISABLED = "true";
process.env.DO_NOT_TRACK = "1";

type Fetch = (request: Request) => Response | Promise<Response>;
type GenUiOptions = Pick<CopilotRuntimeOptions, "a2ui" | "mcpApps" | "openGenerativeUI">;
type Ev = Record<string, any>;

let v2: any;
let mcp: McpAppsServer;

beforeAll(async () => {
  v2 = await import("@copilotkit/runtime/v2");
  mcp = await startMcpAppsServer();
}, 60_000);
afterAll(() => mcp?.close());

const BASE = "/api/copilotkit";

interface Side {
  fetch: Fetch;
  recorder: AgentRecorder;
}

/** An agent that reports capabilities, which `/info` lists per agent. */
class CapableAgent extends ScriptedAgent {
  override async getCapabilities() {
    return { tools: { supported: true }, state: { snapshots: true } };
  }
  override clone(): CapableAgent {
    return Object.assign(Object.create(CapableAgent.prototype), super.clone());
  }
}

/** Both runtimes, each with its own agents `default` and `other` running `script`. */
function both(options: GenUiOptions, script: Script, singleRoute = false): { ours: Side; theirs: Side } {
  const agents = (recorder: AgentRecorder) => ({
    default: new ScriptedAgent({ script, recorder, description: "default agent" }),
    other: new CapableAgent({ script, recorder, description: "other agent" }),
  });
  const oursRecorder = new AgentRecorder();
  const theirsRecorder = new AgentRecorder();
  const ourEndpoint = singleRoute ? createCopilotEndpointSingleRoute : createCopilotEndpoint;
  const theirEndpoint = singleRoute ? v2.createCopilotEndpointSingleRoute : v2.createCopilotEndpoint;
  const ours = ourEndpoint({ runtime: new CopilotRuntime({ agents: agents(oursRecorder), ...options }), basePath: BASE });
  const theirs = theirEndpoint({
    runtime: new v2.CopilotRuntime({ agents: agents(theirsRecorder), runner: new v2.InMemoryAgentRunner(), ...options }),
    basePath: BASE,
  });
  return {
    ours: { fetch: (r) => ours.fetch(r), recorder: oursRecorder },
    theirs: { fetch: (r: Request) => theirs.fetch(r), recorder: theirsRecorder },
  };
}

async function info(side: Side): Promise<Ev> {
  const response = await side.fetch(new Request(`http://localhost${BASE}/info`));
  expect(response.status).toBe(200);
  return response.json();
}

async function runEvents(side: Side, body: Record<string, unknown>, agentId = "default"): Promise<Ev[]> {
  const response = await side.fetch(
    new Request(`http://localhost${BASE}/agent/${agentId}/run`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify(body),
    }),
  );
  expect(response.status).toBe(200);
  return parseSse(await response.text());
}

/** The events with random ids renamed by first appearance, and `RUN_STARTED.input` (ours adds it) left out. */
function normalize(events: Ev[]): Ev[] {
  const names = new Map<string, string>();
  const rename = (id: string) => {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-/.test(id)) return id;
    if (!names.has(id)) names.set(id, `uuid-${names.size + 1}`);
    return names.get(id)!;
  };
  return events.map(({ timestamp: _t, ...event }) => {
    if (event.type === "RUN_STARTED") delete event.input;
    for (const key of ["messageId", "toolCallId"]) if (typeof event[key] === "string") event[key] = rename(event[key]);
    return event;
  });
}

const GENUI_INFO_KEYS = ["a2uiEnabled", "a2ui", "openGenerativeUIEnabled", "agents"] as const;

function genuiInfo(body: Ev): Ev {
  return Object.fromEntries(GENUI_INFO_KEYS.map((key) => [key, body[key]]));
}

describe("/info reports generative UI as 1.75 does", () => {
  it.each<[string, GenUiOptions]>([
    ["no options", {}],
    ["a2ui: {}", { a2ui: {} }],
    ["a2ui for some agents", { a2ui: { agents: ["other"] } }],
    ["a2ui: { enabled: false }", { a2ui: { enabled: false, agents: ["default"] } }],
    ["a2ui: { enabled: true } with a schema", { a2ui: { enabled: true, schema: { catalogId: "c", components: {} } } }],
    ["openGenerativeUI: true", { openGenerativeUI: true }],
    ["openGenerativeUI: false", { openGenerativeUI: false }],
    ["openGenerativeUI for some agents", { openGenerativeUI: { agents: ["other"] } }],
    ["mcpApps", { mcpApps: { servers: [{ type: "http", url: "http://127.0.0.1:9/mcp", serverId: "s" }] } }],
  ])("%s", async (_name, options) => {
    const { ours, theirs } = both(options, a2uiSurfaceReply());
    const [mine, reference] = await Promise.all([info(ours), info(theirs)]);
    expect(genuiInfo(mine)).toEqual(genuiInfo(reference));
    expect(mine.agents.other.capabilities).toEqual({ tools: { supported: true }, state: { snapshots: true } });
  });

  it("isA2UIEnabled answers as 1.75's for every shape", () => {
    for (const value of [undefined, {}, { enabled: true }, { enabled: false }, { agents: ["a"] }, { agents: [], enabled: false }]) {
      expect(isA2UIEnabled(value as never)).toBe(v2.isA2UIEnabled(value));
    }
  });
});

describe("through the single-route envelope", () => {
  async function envelope(side: Side, method: string, params?: Record<string, unknown>, body?: unknown): Promise<Response> {
    return side.fetch(
      new Request(`http://localhost${BASE}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ method, ...(params ? { params } : {}), ...(body ? { body } : {}) }),
      }),
    );
  }

  it("info and an A2UI run answer as 1.75's do", async () => {
    const { ours, theirs } = both({ a2ui: { agents: ["default"] } }, a2uiSurfaceReply(), true);
    const [mine, reference] = await Promise.all([envelope(ours, "info"), envelope(theirs, "info")]);
    expect(genuiInfo(await mine.json())).toEqual(genuiInfo(await reference.json()));
    const input = runInput({ threadId: "t-envelope", runId: "r-envelope" });
    const [myRun, theirRun] = await Promise.all([
      envelope(ours, "agent/run", { agentId: "default" }, input),
      envelope(theirs, "agent/run", { agentId: "default" }, input),
    ]);
    const events = normalize(parseSse(await myRun.text()));
    expect(events).toEqual(normalize(parseSse(await theirRun.text())));
    expect(events.some((e) => e.activityType === "a2ui-surface")).toBe(true);
  });
});

describe("a run's events with each middleware match 1.75's", () => {
  async function compare(options: GenUiOptions, script: Script, body: Record<string, unknown> = {}, agentId = "default") {
    const { ours, theirs } = both(options, script);
    const input = runInput({ threadId: "t-genui", runId: "r-genui", ...body });
    const [mine, reference] = await Promise.all([runEvents(ours, input, agentId), runEvents(theirs, input, agentId)]);
    expect(normalize(mine)).toEqual(normalize(reference));
    return { events: mine, ours, theirs };
  }

  it("A2UI: a render_a2ui call becomes a2ui-surface activities and a synthetic tool result", async () => {
    const { events } = await compare({ a2ui: {} }, a2uiSurfaceReply());
    const surfaces = events.filter((e) => e.type === "ACTIVITY_SNAPSHOT" && e.activityType === "a2ui-surface");
    expect(surfaces.length).toBeGreaterThan(0);
    const operations = surfaces.at(-1)!.content.a2ui_operations;
    expect(operations.map((op: Ev) => Object.keys(op).find((k) => k !== "version"))).toEqual(["createSurface", "updateComponents", "updateDataModel"]);
    expect(events.find((e) => e.type === "TOOL_CALL_RESULT")?.content).toBe(JSON.stringify({ status: "rendered" }));
  });

  it("A2UI targeted at another agent leaves this one's events untouched", async () => {
    const { events } = await compare({ a2ui: { agents: ["other"] } }, a2uiSurfaceReply());
    expect(events.some((e) => e.type === "ACTIVITY_SNAPSHOT")).toBe(false);
  });

  it("A2UI with enabled: false is off", async () => {
    const { events } = await compare({ a2ui: { enabled: false } }, a2uiSurfaceReply());
    expect(events.some((e) => e.type === "ACTIVITY_SNAPSHOT")).toBe(false);
  });

  it("A2UI's injectA2UITool and schema reach the agent's input as in 1.75", async () => {
    const schema = { catalogId: "travel", components: { Text: { type: "object" } } };
    const { ours, theirs } = await compare({ a2ui: { injectA2UITool: true, schema } }, a2uiSurfaceReply());
    const seen = (side: Side) => {
      const input = side.recorder.lastRun!.input;
      return { tools: input.tools.map((t) => t.name), context: input.context.map((c) => c.description), forwardedProps: input.forwardedProps };
    };
    expect(seen(ours)).toEqual(seen(theirs));
    expect(seen(ours).tools).toContain("render_a2ui");
  });

  it("a client that has an A2UI catalog turns A2UI on without the option, as in 1.75", async () => {
    const { events, ours } = await compare({}, a2uiSurfaceReply(), { forwardedProps: { a2uiCatalogAvailable: true } });
    expect(events.some((e) => e.type === "ACTIVITY_SNAPSHOT" && e.activityType === "a2ui-surface")).toBe(true);
    expect(ours.recorder.lastRun!.input.tools.map((t) => t.name)).toContain("render_a2ui");
  });

  it("Open Generative UI: a generateSandboxedUi call becomes open-generative-ui activities", async () => {
    const { events } = await compare({ openGenerativeUI: true }, sandboxedUiReply());
    const activity = events.filter((e) => e.activityType === "open-generative-ui");
    expect(activity[0]?.type).toBe("ACTIVITY_SNAPSHOT");
    expect(activity.some((e) => e.type === "ACTIVITY_DELTA" && e.patch[0].path === "/html")).toBe(true);
  });

  it("Open Generative UI targeted at another agent is not applied", async () => {
    const { events } = await compare({ openGenerativeUI: { agents: ["other"] } }, sandboxedUiReply());
    expect(events.some((e) => e.activityType === "open-generative-ui")).toBe(false);
  });

  it("MCP Apps: the server's UI tool is offered, called, and its result rendered as an mcp-apps activity", async () => {
    const mcpApps = { servers: [{ type: "http" as const, url: mcp.url, serverId: "weather" }] };
    const before = mcp.calls.length;
    const { events, ours } = await compare({ mcpApps }, callToolIfOffered("show_weather", { city: "Lisbon" }));
    expect(ours.recorder.lastRun!.input.tools.map((t) => t.name)).toEqual(["show_weather"]);
    const activity = events.find((e) => e.type === "ACTIVITY_SNAPSHOT" && e.activityType === "mcp-apps");
    expect(activity?.content).toMatchObject({ resourceUri: WEATHER_UI_URI, serverId: "weather", toolInput: { city: "Lisbon" } });
    expect(events.find((e) => e.type === "TOOL_CALL_RESULT")?.content).toBe("Sunny in Lisbon, 24°C");
    expect(mcp.calls.slice(before).map((c) => c.name)).toEqual(["show_weather", "show_weather"]); // once per runtime
  });

  it("MCP Apps: the client's proxied MCP request (how the app's iframe reads its UI resource) is answered as in 1.75", async () => {
    const mcpApps = { servers: [{ type: "http" as const, url: mcp.url, serverId: "weather" }] };
    const proxied = { serverHash: "unknown", serverId: "weather", method: "resources/read", params: { uri: WEATHER_UI_URI } };
    const { events, ours } = await compare({ mcpApps }, callToolIfOffered("show_weather", { city: "Faro" }), {
      forwardedProps: { __proxiedMCPRequest: proxied },
    });
    expect(ours.recorder.runs).toHaveLength(0); // answered by the middleware, the agent never runs
    const finished = events.at(-1)!;
    expect(finished.type).toBe("RUN_FINISHED");
    expect(finished.result.contents[0]).toMatchObject({ uri: WEATHER_UI_URI, text: "<div id=forecast>Sunny</div>" });
  });

  it("MCP Apps: a server bound to another agent is not offered to this one", async () => {
    const mcpApps = { servers: [{ type: "http" as const, url: mcp.url, agentId: "other" }] };
    const { ours } = await compare({ mcpApps }, callToolIfOffered("show_weather", { city: "Porto" }));
    expect(ours.recorder.lastRun!.input.tools).toEqual([]);
  });
});
