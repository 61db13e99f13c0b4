/**
 * Middleware-applied agents on every runner: a run with A2UI and Open Generative UI streams the
 * activity events the middlewares inject, the thread stores them, and `/connect` gives them back,
 * both after the run (replay) and during it (live). The runtime subscribes to `agent.run()`
 * directly and goes through `runAgent()` only for agents with `use()` middleware, so this is the
 * path these options take.
 */
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { RunAgentInput } from "@ag-ui/client";
import { createCopilotRuntimeHandler } from "../../src/http/handler.js";
import { setLogger } from "../../src/logger.js";
import type { AgentRunner } from "../../src/runners/agent-runner.js";
import { InMemoryAgentRunner } from "../../src/runners/in-memory.js";
import { PostgresAgentRunner } from "../../src/runners/postgres.js";
import { SqliteAgentRunner } from "../../src/runners/sqlite.js";
import { CopilotRuntime } from "../../src/runtime.js";
import { ScriptedAgent, pauseUntil, type Script } from "../helpers/agents.js";
import { a2uiSurfaceReply, sandboxedUiReply } from "../helpers/genui.js";
import { deferred } from "../compat/support.js";
import { dropSchema, findPostgres, uniqueSchema } from "../runners/postgres-env.js";
import { parseSse } from "../helpers/sse.js";
import { runInput } from "../helpers/inputs.js";

setLogger({ info: () => {}, warn: () => {}, error: () => {} });

const postgresUrl = await findPostgres();
const schema = uniqueSchema();
afterAll(async () => {
  if (postgresUrl) await dropSchema(postgresUrl, schema);
});

const runners: Array<[string, () => AgentRunner]> = [
  ["InMemoryAgentRunner", () => new InMemoryAgentRunner()],
  ["SqliteAgentRunner", () => new SqliteAgentRunner({ path: ":memory:" })],
];
if (postgresUrl) runners.push(["PostgresAgentRunner", () => new PostgresAgentRunner({ connectionString: postgresUrl, schema, maxConnections: 4 })]);
else if (process.env.CI === "true") throw new Error("PostgreSQL is unreachable; CI=true requires the PostgresAgentRunner case");

const open: AgentRunner[] = [];
afterEach(async () => {
  for (const runner of open.splice(0)) await (runner as AgentRunner & { close?: () => Promise<void> }).close?.();
});

type Ev = Record<string, any>;

/** A2UI's surface and Open Generative UI's sandbox in one run. */
function bothUis(hold?: Promise<unknown>): Script {
  return (input: RunAgentInput) => {
    const a2ui = a2uiSurfaceReply()(input);
    const sandbox = sandboxedUiReply()(input).slice(1, -1);
    return [a2ui[0], ...(hold ? [pauseUntil(hold)] : []), ...a2ui.slice(1, -1), ...sandbox, a2ui.at(-1)!];
  };
}

function setup(create: () => AgentRunner, script: Script) {
  const runner = create();
  open.push(runner);
  const runtime = new CopilotRuntime({ agents: { default: new ScriptedAgent({ script }) }, runner, a2ui: {}, openGenerativeUI: true });
  const handler = createCopilotRuntimeHandler({ runtime, basePath: "/api" });
  const post = (path: string, body: unknown) =>
    handler(new Request(`http://app/api${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }));
  return { post };
}

const activities = (events: Ev[]) => events.filter((e) => e.type === "ACTIVITY_SNAPSHOT" || e.type === "ACTIVITY_DELTA");

describe.each(runners)("generative UI on %s", (_name, create) => {
  it("streams the middlewares' activity events and replays them on /connect", async () => {
    const { post } = setup(create, bothUis());
    const threadId = `t-${Math.random().toString(36).slice(2)}`;
    const run = parseSse(await (await post("/agent/default/run", runInput({ threadId, runId: "r1" }))).text());
    expect(run.at(-1)?.type).toBe("RUN_FINISHED");
    const surfaces = activities(run).filter((e) => e.activityType === "a2ui-surface");
    const sandbox = activities(run).filter((e) => e.activityType === "open-generative-ui");
    expect(surfaces.length).toBeGreaterThan(0);
    expect(sandbox.length).toBeGreaterThan(1);
    expect(run.some((e) => e.type === "TOOL_CALL_RESULT" && e.toolCallId === "render_a2ui-r1")).toBe(true);

    const replay = parseSse(await (await post("/agent/default/connect", runInput({ threadId, messages: [] }))).text());
    expect(activities(replay)).toEqual(activities(run));
    expect(replay.filter((e) => e.type === "TOOL_CALL_RESULT")).toEqual(run.filter((e) => e.type === "TOOL_CALL_RESULT"));
    expect(replay.at(-1)?.type).toBe("RUN_FINISHED");
  });

  it("a client that connects during the run receives the activity events live", async () => {
    const release = deferred();
    const { post } = setup(create, bothUis(release.promise));
    const threadId = `t-${Math.random().toString(36).slice(2)}`;
    const running = post("/agent/default/run", runInput({ threadId, runId: "r2" }));
    const response = await running;
    const reader = response.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value); // RUN_STARTED is out: the run is live
    expect(first).toContain("RUN_STARTED");
    const connecting = post("/agent/default/connect", runInput({ threadId, messages: [] }));
    const live = await connecting;
    release.resolve();
    const [connected] = await Promise.all([live.text(), (async () => { while (!(await reader.read()).done); })()]);
    const events = parseSse(connected);
    expect(activities(events).some((e) => e.activityType === "a2ui-surface")).toBe(true);
    expect(activities(events).some((e) => e.activityType === "open-generative-ui")).toBe(true);
    expect(events.at(-1)?.type).toBe("RUN_FINISHED");
  });

  it("a stop ends a middleware-applied run cleanly, on the run stream and on replay", async () => {
    const hold = deferred();
    const { post } = setup(create, bothUis(hold.promise));
    const threadId = `t-${Math.random().toString(36).slice(2)}`;
    const response = await post("/agent/default/run", runInput({ threadId, runId: "r3" }));
    const reader = response.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toContain("RUN_STARTED");
    const stopped = await (await post(`/agent/default/stop/${threadId}`, {})).json();
    expect(stopped.stopped).toBe(true);
    let rest = "";
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) rest += new TextDecoder().decode(chunk.value);
    hold.resolve();
    const tail = parseSse(rest);
    expect(tail.at(-1)).toMatchObject({ type: "RUN_FINISHED", threadId, runId: "r3" });
    const replay = parseSse(await (await post("/agent/default/connect", runInput({ threadId, messages: [] }))).text());
    expect(replay.map((e) => e.type)).toEqual(["RUN_STARTED", "RUN_FINISHED"]);
  });
});
