/**
 * An agent that breaks AG-UI's event order: every real client receives a stream it accepts,
 * ending in `RUN_ERROR` `INVALID_EVENT_SEQUENCE`, and reports that run error, never a
 * client-side verification exception ("Cannot send ...").
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CopilotRuntime } from "../../src/runtime.js";
import { setLogger } from "../../src/logger.js";
import { ScriptedAgent, echoReply, lastUserText, replyMessageId, type Script } from "../helpers/agents.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { type ClientEvent, type CoreError, coreClients, httpAgentClients } from "./clients.js";
import { closeRunner, compatRunners } from "./runners.js";
import { installBrowserGlobals, waitUntil } from "./support.js";

installBrowserGlobals();

const VERIFIER_WORDING = /Cannot send|First event must be|already (finished|errored)/;

/** Echoes, except "break": it starts a reply, then sends content for a message it never started. */
const script: Script = (input) => {
  if (!/break/.test(lastUserText(input))) return echoReply()(input);
  const messageId = replyMessageId(input);
  return [
    { type: "RUN_STARTED", threadId: input.threadId, runId: input.runId },
    { type: "TEXT_MESSAGE_START", messageId, role: "assistant" },
    { type: "TEXT_MESSAGE_CONTENT", messageId, delta: "Half a reply" },
    { type: "TEXT_MESSAGE_CONTENT", messageId: "never-started", delta: "ghost" },
    { type: "TEXT_MESSAGE_END", messageId },
    { type: "RUN_FINISHED", threadId: input.threadId, runId: input.runId },
  ];
};

describe.each(compatRunners)("$name", (runnerKind) => {
  let server: TestServer;
  const runner = runnerKind.create();
  beforeAll(async () => {
    setLogger({ info() {}, warn() {}, error() {} });
    const runtime = new CopilotRuntime({ runner, agents: { default: new ScriptedAgent({ script, delayMs: 1 }) } });
    server = await startServer({ runtime });
  });
  afterAll(async () => {
    setLogger();
    await server.close();
    await closeRunner(runner);
  });

  it.each(httpAgentClients)("$name receives a valid stream that ends in the run error", async (client) => {
    const threadId = `invalid-${client.name.replace(/[^a-z0-9]+/gi, "-")}-${runnerKind.name}`;
    const agent = client.create({ url: `${server.runtimeUrl}/agent/default/run`, threadId });
    agent.addMessage({ id: `${threadId}-u1`, role: "user", content: "please break" });
    const seen: ClientEvent[] = [];
    const failures: Error[] = [];
    await agent
      .runAgent({}, { onEvent: ({ event }) => void seen.push(event), onRunFailed: ({ error }) => void failures.push(error) })
      .catch((error: Error) => failures.push(error));
    expect(seen.map((e) => e.type)).toEqual(["RUN_STARTED", "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END", "RUN_ERROR"]);
    expect(seen.at(-1)).toMatchObject({ code: "INVALID_EVENT_SEQUENCE" });
    for (const failure of failures) expect(failure.message).not.toMatch(VERIFIER_WORDING);
  });

  it.each(coreClients.filter((c) => c.expectedTransport === "rest"))("$name reports the run error, and the conversation continues", async (factory) => {
    const errors: CoreError[] = [];
    const core = factory.create({ runtimeUrl: server.runtimeUrl });
    core.subscribe({ onError: (event) => void errors.push(event) });
    await waitUntil(() => core.runtimeConnectionStatus === "connected" || core.runtimeConnectionStatus === "error", "/info");
    const agent = core.getAgent("default")!;
    agent.threadId = `invalid-core-${factory.name.replace(/[^a-z0-9]+/gi, "-")}-${runnerKind.name}`;
    agent.addMessage({ id: `${agent.threadId}-u1`, role: "user", content: "please break" });
    await core.runAgent({ agent }).catch(() => {});
    expect(errors.map((e) => e.code)).toEqual(["agent_run_error_event"]);
    expect(errors[0].error.message).not.toMatch(VERIFIER_WORDING);
    errors.length = 0;

    agent.addMessage({ id: `${agent.threadId}-u2`, role: "user", content: "hello again" });
    await core.runAgent({ agent });
    expect(errors).toEqual([]);
    expect(agent.messages.at(-1)).toMatchObject({ role: "assistant", content: "You said: hello again" });
  });
});
