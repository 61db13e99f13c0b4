/**
 * Connecting to a thread while it has an active run and earlier finished runs: the replay
 * (history, then the live run from its start, then live events) must deliver every message
 * exactly once. CopilotKit's runtime replays some events twice in this case.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CopilotRuntime } from "../../src/runtime.js";
import { closeRunner, compatRunners } from "./runners.js";
import type { BaseEvent } from "@ag-ui/core";
import { Observable } from "rxjs";
import type { AgentRunner, AgentRunnerConnectRequest } from "../../src/runners/agent-runner.js";
import { ScriptedAgent, echoReply, lastUserText, textReply, type Script } from "../helpers/agents.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { type CoreClient, type CoreError, coreClients } from "./clients.js";
import { deferred, ids, installBrowserGlobals, transcript, waitUntil } from "./support.js";
import { runInput } from "../helpers/inputs.js";
import { parseSse, type WireEvent } from "../helpers/sse.js";

installBrowserGlobals();

const LIVE_WORDS = 60;
const LIVE_REPLY = Array.from({ length: LIVE_WORDS }, (_, i) => `w${i + 1}`).join(" ");

/**
 * Echoes, except "go long": that reply streams its first word and holds until the test opens
 * the gate, so a connect is guaranteed to land in the middle of the live message.
 */
function gatedScript(): { script: Script; open: () => void } {
  let gate = deferred();
  return {
    script: (input) => {
      if (!/go long/.test(lastUserText(input))) return echoReply()(input);
      gate = deferred();
      const held = gate.promise;
      return textReply(LIVE_REPLY, { pauseAfterFirstWord: () => held })(input);
    },
    open: () => gate.resolve(),
  };
}

/** Records each thread a connect subscribes to, so the test knows the server has attached it. */
function watchConnects(runner: AgentRunner): string[] {
  const connected: string[] = [];
  const connect = runner.connect.bind(runner);
  runner.connect = (request: AgentRunnerConnectRequest) =>
    new Observable<BaseEvent>((subscriber) => {
      const subscription = connect(request).subscribe(subscriber);
      connected.push(request.threadId);
      return subscription;
    });
  return connected;
}

describe.each(compatRunners)("$name", (runnerKind) => {
describe.each(coreClients)("$name: connect during an active run", (factory) => {
  let server: TestServer;
  const runner = runnerKind.create();
  const connected = watchConnects(runner);
  const gated = gatedScript();
  const errors: CoreError[] = [];
  const slug = factory.name.replace(/[^a-z0-9]+/gi, "-");

  beforeAll(async () => {
    const runtime = new CopilotRuntime({ runner, agents: { default: new ScriptedAgent({ script: gated.script, delayMs: 1 }) } });
    server = await startServer({ runtime, mode: factory.expectedTransport === "single" ? "single-route" : "multi-route" });
  });
  afterAll(async () => {
    await server.close();
    await closeRunner(runner);
  });
  afterEach(() => expect(errors.map((e) => `${e.code}: ${e.error?.message}`)).toEqual([]));

  async function connectedCore(): Promise<CoreClient> {
    const core = factory.create({ runtimeUrl: server.runtimeUrl });
    core.subscribe({ onError: (event) => void errors.push(event) });
    await waitUntil(() => core.runtimeConnectionStatus === "connected" || core.runtimeConnectionStatus === "error", "/info");
    return core;
  }

  it("a second tab that connects mid-run sees every message once, and the live reply in full", async () => {
    const threadId = `live-${slug}`;
    const writer = await connectedCore();
    const agent = writer.getAgent("default")!;
    agent.threadId = threadId;
    await writer.connectAgent({ agent });
    agent.addMessage({ id: `${slug}-u1`, role: "user", content: "hello" });
    await writer.runAgent({ agent });
    agent.addMessage({ id: `${slug}-u2`, role: "user", content: "hello again" });
    await writer.runAgent({ agent });

    // Third run: still streaming when the second tab connects.
    const streaming = deferred();
    const subscription = agent.subscribe({ onTextMessageContentEvent: () => streaming.resolve() });
    agent.addMessage({ id: `${slug}-u3`, role: "user", content: "now go long" });
    const run = writer.runAgent({ agent });
    await streaming.promise;
    subscription.unsubscribe();
    expect(await runner.isRunning({ threadId })).toBe(true);

    const reader = await connectedCore();
    const watcher = reader.getAgent("default")!;
    watcher.threadId = threadId;
    const connect = reader.connectAgent({ agent: watcher }); // follows the live run to its end
    await waitUntil(() => connected.includes(threadId), "the server to attach the connect");
    expect(await runner.isRunning({ threadId })).toBe(true);
    gated.open();
    await Promise.all([run, connect]);

    expect(transcript(agent.messages)).toHaveLength(6);
    expect(ids(watcher.messages)).toEqual(ids(agent.messages));
    expect(transcript(watcher.messages)).toEqual(transcript(agent.messages));
    expect(new Set(ids(watcher.messages)).size).toBe(6);
  });

  it("a double connect (React StrictMode mounts the chat twice) during a live run still shows every message once", async () => {
    const threadId = `double-${slug}`;
    const writer = await connectedCore();
    const agent = writer.getAgent("default")!;
    agent.threadId = threadId;
    agent.addMessage({ id: `${slug}-d1`, role: "user", content: "hello" });
    await writer.runAgent({ agent });
    const streaming = deferred();
    const subscription = agent.subscribe({ onTextMessageContentEvent: () => streaming.resolve() });
    agent.addMessage({ id: `${slug}-d2`, role: "user", content: "go long please" });
    const run = writer.runAgent({ agent });
    await streaming.promise;
    subscription.unsubscribe();

    const reader = await connectedCore();
    const watcher = reader.getAgent("default")!;
    watcher.threadId = threadId;
    const attachedBefore = connected.filter((id) => id === threadId).length;
    const first = reader.connectAgent({ agent: watcher });
    const second = reader.connectAgent({ agent: watcher }); // detaches the first, as a remount does
    await waitUntil(() => connected.filter((id) => id === threadId).length >= attachedBefore + 1, "a connect to attach");
    gated.open();
    await Promise.all([run, first, second]);

    expect(transcript(watcher.messages)).toEqual(transcript(agent.messages));
    expect(ids(watcher.messages)).toEqual(ids(agent.messages));
    expect(watcher.isRunning).toBe(false);
  });
});

describe("connect during an active run, on the wire", () => {
  let server: TestServer;
  const gated = gatedScript();
  const runner = runnerKind.create();
  beforeAll(async () => {
    const runtime = new CopilotRuntime({ runner, agents: { default: new ScriptedAgent({ script: gated.script, delayMs: 1 }) } });
    server = await startServer({ runtime });
  });
  afterAll(async () => {
    await server.close();
    await closeRunner(runner);
  });

  const post = (path: string, body: unknown) =>
    fetch(`${server.runtimeUrl}${path}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
      body: JSON.stringify(body),
    });

  it("replays each run, each message start and each user message exactly once", async () => {
    const threadId = "wire-live";
    const u1 = { id: "u1", role: "user", content: "hello" };
    const u2 = { id: "u2", role: "user", content: "please go long" };
    await (await post("/agent/default/run", runInput({ threadId, runId: "r1", messages: [u1] }))).text();

    const live = await post("/agent/default/run", runInput({ threadId, runId: "r2", messages: [u1, { id: "reply-r1", role: "assistant", content: "x" }, u2] }));
    const reader = live.body!.getReader();
    // Wait until the live run is streaming its reply (it then holds), so the connect lands mid-message.
    let seen = "";
    while (!seen.includes("TEXT_MESSAGE_CONTENT")) seen += new TextDecoder().decode((await reader.read()).value);
    const connect = await post("/agent/default/connect", runInput({ threadId, runId: "c1", messages: [] })); // headers sent: attached
    gated.open();
    const connected = parseSse(await connect.text());
    while (!(await reader.read()).done); // let the live run finish

    const count = (pick: (e: WireEvent) => unknown) => {
      const seen = new Map<unknown, number>();
      for (const event of connected) {
        const key = pick(event);
        if (key !== undefined) seen.set(key, (seen.get(key) ?? 0) + 1);
      }
      return seen;
    };
    expect([...count((e) => (e.type === "RUN_STARTED" ? e.runId : undefined))]).toEqual([
      ["r1", 1],
      ["r2", 1],
    ]);
    expect([...count((e) => (e.type === "TEXT_MESSAGE_START" ? e.messageId : undefined))]).toEqual([
      ["reply-r1", 1],
      ["reply-r2", 1],
    ]);
    const userIds = connected.flatMap((e) =>
      e.type === "RUN_STARTED" ? ((e.input as { messages?: Array<{ id: string; role: string }> } | undefined)?.messages ?? []).map((m) => m.id) : [],
    );
    expect(userIds).toEqual(["u1", "u2"]);
    // The connect stream followed the live run to its end.
    expect(connected[connected.length - 1]).toMatchObject({ type: "RUN_FINISHED", runId: "r2" });
    const text = connected
      .filter((e) => e.type === "TEXT_MESSAGE_CONTENT" && e.messageId === "reply-r2")
      .map((e) => e.delta)
      .join("");
    expect(text).toBe(LIVE_REPLY);
  });
});
});
