import type { Message, RunAgentInput } from "@ag-ui/core";
import { chat, toolDefinition } from "@tanstack/ai";
import { createOpenaiChat } from "@tanstack/ai-openai";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { BuiltInAgent, convertInputToTanStackAI } from "../../../src/built-in.js";
import { useFakeProvider } from "./helpers/fake-provider.js";
import { responses, responsesStream } from "./helpers/scripts.js";
import { collect, expectValidStream, makeInput, replayThroughClients, type AnyEvent } from "./helpers/verify.js";

// Factory mode with a live TanStack AI: the real chat() with its OpenAI adapter (Responses API)
// against the local fake provider, side by side with CopilotKit 1.75's BuiltInAgent in tanstack mode
// on the same scripted answers.

const provider = useFakeProvider();
const executed: unknown[] = [];
const lookup = toolDefinition({ name: "lookup", description: "Look up a record", inputSchema: z.object({ key: z.string() }) }).server(async ({ key }) => {
  executed.push({ lookup: key });
  return { value: `42 for ${key}` };
});
const remove = toolDefinition({ name: "remove", description: "Delete a record", inputSchema: z.object({ key: z.string() }), needsApproval: true }).server(async ({ key }) => {
  executed.push({ remove: key });
  return "gone";
});
const showTool = { name: "show", description: "Show a value in the page", parameters: { type: "object", properties: { x: { type: "string" } } } };

/** A factory as an application writes one: the run's input converted, plus its own server tools. */
const tanstackFactory =
  (serverTools: unknown[]) =>
  ({ input, abortController }: { input: RunAgentInput; abortController: AbortController }) => {
    const adapter = createOpenaiChat("gpt-4o", "sk-test-0123456789", { baseURL: provider.url, maxRetries: 0 });
    const converted = convertInputToTanStackAI(input);
    return chat({ adapter, ...converted, tools: [...serverTools, ...converted.tools], abortController } as any) as AsyncIterable<unknown>;
  };

/** The same scripted answers played to CopilotKit's agent, then to ours. */
async function sideBySide(script: () => void, input: RunAgentInput, serverTools: unknown[] = []) {
  const v2 = (await import("@copilotkit/runtime/v2")) as any;
  script();
  const theirs: AnyEvent[] = await collect(new v2.BuiltInAgent({ type: "tanstack", factory: tanstackFactory(serverTools) }).run(input));
  const theirRequests = provider.requests.splice(0).map((request) => request.body);
  script();
  const mine = await collect(new BuiltInAgent({ type: "tanstack", factory: tanstackFactory(serverTools) }).run(input));
  const myRequests = provider.requests.map((request) => request.body);
  return { theirs, mine, theirRequests, myRequests };
}

/** Everything but the text framing (CopilotKit streams TEXT_MESSAGE_CHUNK, we stream START/CONTENT/END). */
const nonText = (events: AnyEvent[]) =>
  events
    .filter((event) => !event.type.startsWith("TEXT_MESSAGE"))
    .map(({ type, toolCallId, toolCallName, delta, content, outcome, usage }) => ({ type, toolCallId, toolCallName, delta, content, outcome, usage }));

const text = (events: AnyEvent[]) => events.filter((event) => event.type === "TEXT_MESSAGE_CONTENT" || event.type === "TEXT_MESSAGE_CHUNK").map((event) => event.delta).join("");

/** The conversation an AG-UI client (1.0) builds from the events, without ids. */
async function conversation(events: AnyEvent[], initial: Message[]) {
  const [replay] = await replayThroughClients(events, initial);
  return replay.messages.map((message: any) => ({
    role: message.role,
    content: message.content || undefined,
    toolCalls: message.toolCalls?.map((call: any) => ({ id: call.id, name: call.function.name, arguments: call.function.arguments })),
    toolCallId: message.toolCallId,
  }));
}

describe("factory mode: a live TanStack AI chat() side by side with CopilotKit 1.75", () => {
  it("text: the same words and lifecycle, with the turn's finish reason and usage", async () => {
    const input = makeInput();
    const { theirs, mine } = await sideBySide(() => provider.enqueue(responsesStream([responses.text("Hel", "lo there.")])), input);
    await expectValidStream(mine, input.messages);
    expect(text(mine)).toBe("Hello there.");
    expect(text(mine)).toBe(text(theirs));
    expect(nonText(mine)).toEqual(nonText(theirs));
    expect(await conversation(mine, input.messages)).toEqual(await conversation(theirs, input.messages));
    // the finish reason TanStack 0.5x puts under metadata.tanstack reaches RUN_FINISHED (1.75 drops it)
    expect(mine.at(-1)).toMatchObject({ type: "RUN_FINISHED", metadata: { finishReason: "stop" }, usage: [{ inputTokens: 20, outputTokens: 10, totalTokens: 30 }] });
  });

  it("a server tool chat() runs itself: the same calls, results and answer, and the text and its call are one message", async () => {
    executed.length = 0;
    const input = makeInput();
    const script = () =>
      provider.enqueue(
        responsesStream([responses.text("Let me ", "check."), responses.call("call_1", "lookup", '{"key":', '"abc"}')]),
        responsesStream([responses.text("It is 42.")]),
      );
    const { theirs, mine, theirRequests, myRequests } = await sideBySide(script, input, [lookup]);
    await expectValidStream(mine, input.messages);
    expect(executed).toEqual([{ lookup: "abc" }, { lookup: "abc" }]);
    expect(nonText(mine)).toEqual(nonText(theirs));
    expect(nonText(mine).map((event) => event.type)).toEqual([
      "RUN_STARTED",
      "TOOL_CALL_START",
      "TOOL_CALL_ARGS",
      "TOOL_CALL_ARGS",
      "TOOL_CALL_END",
      "TOOL_CALL_RESULT",
      "RUN_FINISHED",
    ]);
    expect(text(mine)).toBe("Let me check.It is 42.");
    expect(myRequests).toEqual(theirRequests);
    // the tool call names the text message before it as its parent, as TanStack's own chunk does
    const textId = mine.find((event) => event.type === "TEXT_MESSAGE_START")!.messageId;
    expect(mine.find((event) => event.type === "TOOL_CALL_START")!.parentMessageId).toBe(textId);
    expect(await conversation(mine, input.messages)).toEqual([
      { role: "user", content: "Hello" },
      { role: "assistant", content: "Let me check.", toolCalls: [{ id: "call_1", name: "lookup", arguments: '{"key":"abc"}' }] },
      { role: "tool", content: '{"value":"42 for abc"}', toolCallId: "call_1" },
      { role: "assistant", content: "It is 42." },
    ]);
    expect(mine.at(-1)).toMatchObject({ metadata: { finishReason: "stop" }, usage: [{ inputTokens: 40, outputTokens: 20, totalTokens: 60 }] });
  });

  it("a frontend tool: the call streams and the run finishes for the client to run it (TanStack's client_tool interrupt is not a pause)", async () => {
    const input = makeInput({ tools: [showTool] });
    const { theirs, mine, myRequests } = await sideBySide(() => provider.enqueue(responsesStream([responses.call("call_2", "show", '{"x":"hi"}')])), input);
    await expectValidStream(mine, input.messages);
    expect(myRequests[0].tools.map((tool: { name: string }) => tool.name)).toEqual(["show"]);
    expect(nonText(mine)).toEqual(nonText(theirs));
    expect(mine.at(-1)!.outcome).toBeUndefined();
    expect(await conversation(mine, input.messages)).toEqual([
      { role: "user", content: "Hello" },
      { role: "assistant", toolCalls: [{ id: "call_2", name: "show", arguments: '{"x":"hi"}' }] },
    ]);
  });

  it("a tool with needsApproval pauses the run with a tool_approval interrupt, and the resumed run gives the answer as its result", async () => {
    executed.length = 0;
    const input = makeInput();
    const script = () => provider.enqueue(responsesStream([responses.call("call_9", "remove", '{"key":"abc"}')]));
    const { theirs, mine } = await sideBySide(script, input, [remove]);
    await expectValidStream(mine, input.messages);
    expect(executed).toEqual([]);
    expect(mine.at(-1)).toMatchObject({
      type: "RUN_FINISHED",
      outcome: { type: "interrupt", interrupts: [{ id: "call_9", toolCallId: "call_9", reason: "tool_approval", metadata: { toolName: "remove" } }] },
    });
    // CopilotKit 1.75 reads only the older CUSTOM approval-requested chunk: with TanStack 0.5x the run just finishes
    expect(theirs.at(-1)!.outcome).toBeUndefined();

    // the client answers; the resumed run hands the answer to chat() as the call's result
    const [replay] = await replayThroughClients(mine, input.messages);
    provider.reset();
    provider.enqueue(responsesStream([responses.text("Not deleted.")]));
    const resumed = await collect(
      new BuiltInAgent({ type: "tanstack", factory: tanstackFactory([remove]) }).run(
        makeInput({ runId: "run-2", messages: replay.messages as Message[], resume: [{ interruptId: "call_9", status: "resolved", payload: { approved: false } }] } as any),
      ),
    );
    await expectValidStream(resumed, replay.messages as Message[]);
    expect(text(resumed)).toBe("Not deleted.");
    expect(resumed.at(-1)!.outcome).toBeUndefined();
    expect(executed).toEqual([]);
    const sent = provider.requests[0].body.input as Array<Record<string, unknown>>;
    expect(sent.find((item) => item.type === "function_call_output")).toMatchObject({ call_id: "call_9" });
    expect(JSON.parse(String(sent.find((item) => item.type === "function_call_output")!.output))).toEqual({ approved: false });
  });
});
