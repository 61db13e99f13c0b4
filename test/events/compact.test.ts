import { describe, expect, it } from "vitest";
import { compactEvents } from "../../src/events/compact.js";
import { messagesFromEvents } from "../../src/events/messages.js";

describe("compactEvents", () => {
  it("merges text deltas and tool args into one event each, moving interleaved events after the stream", () => {
    const events = [
      { type: "RUN_STARTED", threadId: "t", runId: "r" },
      { type: "TEXT_MESSAGE_START", messageId: "m1", role: "assistant" },
      { type: "TEXT_MESSAGE_CONTENT", messageId: "m1", delta: "Hel" },
      { type: "STATE_SNAPSHOT", snapshot: { a: 1 } },
      { type: "TEXT_MESSAGE_CONTENT", messageId: "m1", delta: "lo" },
      { type: "TEXT_MESSAGE_END", messageId: "m1" },
      { type: "TOOL_CALL_START", toolCallId: "c1", toolCallName: "f", parentMessageId: "m1" },
      { type: "TOOL_CALL_ARGS", toolCallId: "c1", delta: '{"a":' },
      { type: "TOOL_CALL_ARGS", toolCallId: "c1", delta: "1}" },
      { type: "TOOL_CALL_END", toolCallId: "c1" },
      { type: "RUN_FINISHED", threadId: "t", runId: "r" },
    ];
    const original = structuredClone(events);
    expect(compactEvents(events)).toEqual([
      { type: "RUN_STARTED", threadId: "t", runId: "r" },
      { type: "TEXT_MESSAGE_START", messageId: "m1", role: "assistant" },
      { type: "TEXT_MESSAGE_CONTENT", messageId: "m1", delta: "Hello" },
      { type: "TEXT_MESSAGE_END", messageId: "m1" },
      { type: "STATE_SNAPSHOT", snapshot: { a: 1 } },
      { type: "TOOL_CALL_START", toolCallId: "c1", toolCallName: "f", parentMessageId: "m1" },
      { type: "TOOL_CALL_ARGS", toolCallId: "c1", delta: '{"a":1}' },
      { type: "TOOL_CALL_END", toolCallId: "c1" },
      { type: "RUN_FINISHED", threadId: "t", runId: "r" },
    ]);
    expect(events).toEqual(original);
  });

  it("keeps an unfinished stream merged at the end of the log", () => {
    const compacted = compactEvents([
      { type: "TEXT_MESSAGE_START", messageId: "m1" },
      { type: "TEXT_MESSAGE_CONTENT", messageId: "m1", delta: "a" },
      { type: "TEXT_MESSAGE_CONTENT", messageId: "m1", delta: "b" },
    ]);
    expect(compacted).toEqual([
      { type: "TEXT_MESSAGE_START", messageId: "m1" },
      { type: "TEXT_MESSAGE_CONTENT", messageId: "m1", delta: "ab" },
    ]);
  });
});

describe("messagesFromEvents", () => {
  it("rebuilds user, assistant, tool call and tool result messages", () => {
    const messages = messagesFromEvents([
      { type: "RUN_STARTED", threadId: "t", runId: "r", input: { messages: [{ id: "u1", role: "user", content: "weather?" }] } },
      { type: "TEXT_MESSAGE_START", messageId: "a1", role: "assistant" },
      { type: "TEXT_MESSAGE_CONTENT", messageId: "a1", delta: "Checking" },
      { type: "TEXT_MESSAGE_END", messageId: "a1" },
      { type: "TOOL_CALL_START", toolCallId: "c1", toolCallName: "weather", parentMessageId: "a1" },
      { type: "TOOL_CALL_ARGS", toolCallId: "c1", delta: '{"city":"Paris"}' },
      { type: "TOOL_CALL_END", toolCallId: "c1" },
      { type: "TOOL_CALL_RESULT", messageId: "r1", toolCallId: "c1", content: "sunny" },
      { type: "RUN_FINISHED", threadId: "t", runId: "r" },
    ]);
    expect(messages).toEqual([
      { id: "u1", role: "user", content: "weather?" },
      {
        id: "a1",
        role: "assistant",
        content: "Checking",
        toolCalls: [{ id: "c1", type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } }],
      },
      { id: "r1", role: "tool", toolCallId: "c1", content: "sunny" },
    ]);
  });

  it("replaces everything on MESSAGES_SNAPSHOT", () => {
    const messages = messagesFromEvents([
      { type: "TEXT_MESSAGE_START", messageId: "a1" },
      { type: "MESSAGES_SNAPSHOT", messages: [{ id: "x", role: "user", content: "only" }] },
    ]);
    expect(messages).toEqual([{ id: "x", role: "user", content: "only" }]);
  });
});
