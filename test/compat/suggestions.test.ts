/**
 * Chat suggestions, as the cores produce them after each reply: the agent is asked to call
 * the `copilotkitSuggest` tool. `@copilotkit/core` 1.75 on REST uses `POST /agent/:id/suggest`
 * (advertised by `/info.suggestions`), which must not store a thread; 1.54.1 and single-route
 * clients fall back to a `/run` on a throwaway thread.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CopilotRuntime } from "../../src/runtime.js";
import { InMemoryAgentRunner } from "../../src/runners/in-memory.js";
import { ScriptedAgent, echoReply, type Script } from "../helpers/agents.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { type CoreError, coreClients } from "./clients.js";
import { installBrowserGlobals, transcript, waitUntil } from "./support.js";

installBrowserGlobals();

const SUGGESTIONS = [
  { title: "Tell me more", message: "Tell me more about it" },
  { title: "Thanks", message: "Thanks, that helps" },
];

/** Answers suggestion requests with a `copilotkitSuggest` tool call; echoes otherwise. */
const script: Script = (input) => {
  if (!input.tools.some((tool) => tool.name === "copilotkitSuggest")) return echoReply()(input);
  const toolCallId = `suggest-${input.runId}`;
  return [
    { type: "RUN_STARTED", threadId: input.threadId, runId: input.runId },
    { type: "TOOL_CALL_START", toolCallId, toolCallName: "copilotkitSuggest", parentMessageId: `m-${input.runId}` },
    { type: "TOOL_CALL_ARGS", toolCallId, delta: JSON.stringify({ suggestions: SUGGESTIONS }).slice(0, 20) },
    { type: "TOOL_CALL_ARGS", toolCallId, delta: JSON.stringify({ suggestions: SUGGESTIONS }).slice(20) },
    { type: "TOOL_CALL_END", toolCallId },
    { type: "RUN_FINISHED", threadId: input.threadId, runId: input.runId },
  ];
};

interface SuggestionsCore {
  addSuggestionsConfig(config: Record<string, unknown>): string;
  getSuggestions(agentId: string): { suggestions: Array<{ title: string; message: string; isLoading: boolean }>; isLoading: boolean };
}

describe.each(coreClients)("$name: suggestions", (factory) => {
  let server: TestServer;
  const runner = new InMemoryAgentRunner();
  const errors: CoreError[] = [];
  const usesSuggestRoute = factory.name.includes("1.75") && factory.expectedTransport === "rest";

  beforeAll(async () => {
    const runtime = new CopilotRuntime({ runner, agents: { default: new ScriptedAgent({ script, delayMs: 1 }) } });
    server = await startServer({ runtime, mode: factory.expectedTransport === "single" ? "single-route" : "multi-route" });
  });
  afterAll(() => server.close());
  afterEach(() => expect(errors.map((e) => `${e.code}: ${e.error?.message}`)).toEqual([]));

  it(`after a reply the core shows the agent's suggestions${usesSuggestRoute ? " (via /suggest, no thread stored)" : ""}`, async () => {
    const core = factory.create({ runtimeUrl: server.runtimeUrl });
    core.subscribe({ onError: (event) => void errors.push(event) });
    await waitUntil(() => core.runtimeConnectionStatus === "connected", "/info");
    (core as unknown as SuggestionsCore).addSuggestionsConfig({ instructions: "Suggest follow-ups.", maxSuggestions: 2 });
    const agent = core.getAgent("default")!;
    agent.threadId = `suggest-chat-${factory.name}`;
    await core.connectAgent({ agent });

    agent.addMessage({ id: "u1", role: "user", content: "hello" });
    await core.runAgent({ agent }); // the core asks for suggestions when the run ends

    const suggestions = () => (core as unknown as SuggestionsCore).getSuggestions("default");
    await waitUntil(() => suggestions().suggestions.length > 0 && !suggestions().isLoading, "suggestions");
    expect(suggestions().suggestions).toEqual(SUGGESTIONS.map((s) => ({ ...s, isLoading: false })));
    // The chat itself is untouched by the suggestion run.
    expect(transcript(agent.messages)).toEqual(["user: hello", "assistant: You said: hello"]);
    if (usesSuggestRoute) {
      const { threads } = await runner.listThreads({});
      expect(threads.map((t) => t.id)).toEqual([agent.threadId]);
    }
  });
});
