import { describe, expect, it } from "vitest";
import { setLogger } from "../../src/logger.js";
import { makeHandler } from "../helpers/handler.js";
import { readSse } from "../helpers/sse.js";
import { runInput } from "../helpers/inputs.js";
import { ScriptedAgent, helloScript } from "../helpers/agents.js";

setLogger({ info: () => {}, warn: () => {}, error: () => {} });

function setup() {
  const ctx = makeHandler({
    agents: { default: new ScriptedAgent({ script: helloScript, delayMs: 0 }), other: new ScriptedAgent({ script: helloScript, delayMs: 0 }) },
    identifyUser: (request) => ({ id: request.headers.get("x-user") ?? "anonymous-tester" }),
  });
  const as = (user: string) => ({ "x-user": user });
  const run = async (threadId: string, user = "alice", agent = "default") =>
    readSse(await ctx.post(`/agent/${agent}/run`, runInput({ threadId }), as(user)));
  const send = (method: string, path: string, user: string, body?: unknown) =>
    ctx.handler(
      new Request(ctx.url(path), {
        method,
        headers: { "content-type": "application/json", ...as(user) },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
    );
  return { ...ctx, as, run, send };
}

describe("thread routes (in-memory runner)", () => {
  it("lists the caller's threads newest first, filtered by agent, with cursor pagination", async () => {
    const { run, get, as } = setup();
    await run("t1");
    await run("t2");
    await run("t3", "alice", "other");
    await run("t-bob", "bob");
    const all = await (await get("/threads?limit=2", as("alice"))).json();
    expect(all.threads.map((t: any) => t.id)).toEqual(["t3", "t2"]);
    expect(typeof all.nextCursor).toBe("string");
    const next = await (await get(`/threads?limit=2&cursor=${encodeURIComponent(all.nextCursor)}`, as("alice"))).json();
    expect(next.threads.map((t: any) => t.id)).toEqual(["t1"]);
    expect(next.nextCursor).toBeNull();
    const filtered = await (await get("/threads?agentId=default", as("alice"))).json();
    expect(filtered.threads.map((t: any) => t.id)).toEqual(["t2", "t1"]);
    expect(filtered.threads[0]).toMatchObject({ id: "t2", name: null, agentId: "default", archived: false, createdById: "alice" });
  });

  it("rejects a bad agentId, limit or cursor with 400", async () => {
    const { get, as } = setup();
    expect((await get("/threads?agentId=bad%20id", as("alice"))).status).toBe(400);
    expect((await get("/threads?limit=0", as("alice"))).status).toBe(400);
    expect((await get("/threads?limit=abc", as("alice"))).status).toBe(400);
    const cursor = await get("/threads?cursor=garbage", as("alice"));
    expect(cursor.status).toBe(400);
    expect((await cursor.json()).error).toBe("invalid_cursor");
  });

  it("renames, archives, unarchives and deletes", async () => {
    const { run, send, get, as } = setup();
    await run("t-life");
    const renamed = await send("PATCH", "/threads/t-life", "alice", { agentId: "default", name: "Trip plans" });
    expect(renamed.status).toBe(200);
    expect(await renamed.json()).toMatchObject({ id: "t-life", name: "Trip plans" });
    const archived = await send("POST", "/threads/t-life/archive", "alice", { agentId: "default" });
    expect(await archived.json()).toEqual({ threadId: "t-life", archived: true });
    expect((await (await get("/threads", as("alice"))).json()).threads).toEqual([]);
    expect((await (await get("/threads?includeArchived=true", as("alice"))).json()).threads).toHaveLength(1);
    await send("PATCH", "/threads/t-life", "alice", { agentId: "default", archived: false });
    expect((await (await get("/threads", as("alice"))).json()).threads).toHaveLength(1);
    const deleted = await send("DELETE", "/threads/t-life", "alice", { agentId: "default" });
    expect(await deleted.json()).toEqual({ threadId: "t-life", deleted: true });
    expect((await get("/threads/t-life/messages", as("alice"))).status).toBe(404);
  });

  it("rejects a rename that is not a string", async () => {
    const { run, send } = setup();
    await run("t-name");
    const response = await send("PATCH", "/threads/t-name", "alice", { name: 42 });
    expect(response.status).toBe(400);
  });

  it("serves messages, events and state in CopilotKit's shapes", async () => {
    const { run, get, as } = setup();
    await run("t-inspect");
    const { messages } = await (await get("/threads/t-inspect/messages", as("alice"))).json();
    expect(messages.map((m: any) => m.role)).toEqual(["user", "assistant"]);
    expect(messages[1].content).toBe("Hello from test");
    const { events } = await (await get("/threads/t-inspect/events", as("alice"))).json();
    expect(events[0].type).toBe("RUN_STARTED");
    expect(await (await get("/threads/t-inspect/state", as("alice"))).json()).toEqual({ state: null });
  });

  it("answers 404 for another user's thread on every route", async () => {
    const { run, send, get, post, as } = setup();
    await run("t-secret", "alice");
    for (const path of ["/threads/t-secret/messages", "/threads/t-secret/events", "/threads/t-secret/state"]) {
      expect((await get(path, as("bob"))).status, path).toBe(404);
    }
    expect((await send("PATCH", "/threads/t-secret", "bob", { name: "mine" })).status).toBe(404);
    expect((await send("POST", "/threads/t-secret/archive", "bob", {})).status).toBe(404);
    expect((await send("DELETE", "/threads/t-secret", "bob", {})).status).toBe(404);
    expect((await post("/agent/default/run", runInput({ threadId: "t-secret" }), as("bob"))).status).toBe(404);
    expect(await readSse(await post("/agent/default/connect", runInput({ threadId: "t-secret", messages: [] }), as("bob")))).toEqual([]);
    expect((await (await post("/agent/default/stop/t-secret", {}, as("bob"))).json()).stopped).toBe(false);
    // alice still has it, untouched
    const { messages } = await (await get("/threads/t-secret/messages", as("alice"))).json();
    expect(messages).toHaveLength(2);
  });

  it("clears only the caller's threads", async () => {
    const { run, send, get, as } = setup();
    await run("a1", "alice");
    await run("b1", "bob");
    expect((await send("POST", "/threads/clear", "alice")).status).toBe(204);
    expect((await (await get("/threads", as("alice"))).json()).threads).toEqual([]);
    expect((await (await get("/threads", as("bob"))).json()).threads).toHaveLength(1);
  });
});
