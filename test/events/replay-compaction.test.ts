import { describe, expect, it } from "vitest";
import { compactForReplay, resumeEntry } from "../../src/events/replay-compaction.js";
import { messagesFromEvents } from "../../src/events/messages.js";

describe("compactForReplay", () => {
  const numbered = (events: Array<Record<string, any>>) => events.map((event, i) => ({ seq: i + 1, event: event as any }));

  it("merges consecutive deltas of one message or tool call, numbered with the last, without reordering", () => {
    const entries = numbered([
      { type: "RUN_STARTED", threadId: "t", runId: "r" },
      { type: "TEXT_MESSAGE_START", messageId: "m1", role: "assistant" },
      { type: "TEXT_MESSAGE_CONTENT", messageId: "m1", delta: "Hel" },
      { type: "TEXT_MESSAGE_CONTENT", messageId: "m1", delta: "lo" },
      { type: "STATE_SNAPSHOT", snapshot: { a: 1 } },
      { type: "TEXT_MESSAGE_CONTENT", messageId: "m1", delta: "!" },
      { type: "TEXT_MESSAGE_END", messageId: "m1" },
      { type: "TOOL_CALL_START", toolCallId: "c1", toolCallName: "f", parentMessageId: "m1" },
      { type: "TOOL_CALL_ARGS", toolCallId: "c1", delta: '{"a":' },
      { type: "TOOL_CALL_ARGS", toolCallId: "c1", delta: "1}" },
      { type: "TOOL_CALL_END", toolCallId: "c1" },
    ]);
    const original = structuredClone(entries);
    const compacted = compactForReplay(entries);
    expect(compacted.map((e) => [e.seq, e.event.type, e.event.delta ?? ""])).toEqual([
      [1, "RUN_STARTED", ""],
      [2, "TEXT_MESSAGE_START", ""],
      [4, "TEXT_MESSAGE_CONTENT", "Hello"],
      [5, "STATE_SNAPSHOT", ""],
      [6, "TEXT_MESSAGE_CONTENT", "!"],
      [7, "TEXT_MESSAGE_END", ""],
      [8, "TOOL_CALL_START", ""],
      [10, "TOOL_CALL_ARGS", '{"a":1}'],
      [11, "TOOL_CALL_END", ""],
    ]);
    expect(entries).toEqual(original);
  });

  it("keeps cuts on request, so a resume inside a merged delta sends exactly the rest", () => {
    const [merged] = compactForReplay(
      numbered([
        { type: "TEXT_MESSAGE_CONTENT", messageId: "m", delta: "one " },
        { type: "TEXT_MESSAGE_CONTENT", messageId: "m", delta: "two " },
        { type: "TEXT_MESSAGE_CONTENT", messageId: "m", delta: "three" },
      ]),
      { keepCuts: true },
    );
    expect(merged.seq).toBe(3);
    expect(resumeEntry(merged, 0)).toBe(merged);
    expect(resumeEntry(merged, 1)?.event.delta).toBe("two three");
    expect(resumeEntry(merged, 2)?.event.delta).toBe("three");
    expect(resumeEntry(merged, 2)?.seq).toBe(3);
    expect(resumeEntry(merged, 3)).toBeUndefined();
    expect(compactForReplay(numbered([{ type: "TEXT_MESSAGE_CONTENT", messageId: "m", delta: "a" }, { type: "TEXT_MESSAGE_CONTENT", messageId: "m", delta: "b" }]))[0].cuts).toBeUndefined();
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
