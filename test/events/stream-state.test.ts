import { describe, expect, it } from "vitest";
import { StreamState } from "../../src/events/stream-state.js";

describe("StreamState", () => {
  it("closes reasoning before text and tool calls before the terminal event when finalizing a stop", () => {
    const state = new StreamState("t", "r");
    for (const event of [
      { type: "RUN_STARTED", threadId: "t", runId: "r" },
      { type: "STEP_STARTED", stepName: "think" },
      { type: "REASONING_START", messageId: "rs" },
      { type: "REASONING_MESSAGE_START", messageId: "rm", role: "reasoning" },
      { type: "TEXT_MESSAGE_START", messageId: "m" },
      { type: "TOOL_CALL_START", toolCallId: "c", toolCallName: "f" },
    ]) state.accept(event);
    expect(state.finalize({ kind: "stopped" }).map((e) => e.type)).toEqual([
      "REASONING_MESSAGE_END",
      "REASONING_END",
      "TEXT_MESSAGE_END",
      "TOOL_CALL_END",
      "TOOL_CALL_RESULT",
      "STEP_FINISHED",
      "RUN_FINISHED",
    ]);
    expect(state.finalize({ kind: "stopped" })).toEqual([]);
  });

  it("adds nothing when the agent ended the run itself, and leaves a frontend tool call unanswered", () => {
    const state = new StreamState("t", "r");
    for (const event of [
      { type: "RUN_STARTED", threadId: "t", runId: "r" },
      { type: "TOOL_CALL_START", toolCallId: "c", toolCallName: "frontendTool" },
      { type: "TOOL_CALL_END", toolCallId: "c" },
      { type: "RUN_FINISHED", threadId: "t", runId: "r" },
    ]) state.accept(event);
    expect(state.finalize({ kind: "incomplete" })).toEqual([]);
  });

  it("emits RUN_STARTED before RUN_FINISHED when stopped before the agent said anything", () => {
    const state = new StreamState("t", "r");
    expect(state.finalize({ kind: "stopped" })).toEqual([
      { type: "RUN_STARTED", threadId: "t", runId: "r" },
      { type: "RUN_FINISHED", threadId: "t", runId: "r" },
    ]);
  });

  it("expands chunk lanes and closes them when another kind of event arrives", () => {
    const state = new StreamState("t", "r");
    const out = [
      { type: "TOOL_CALL_CHUNK", toolCallId: "c", toolCallName: "f", parentMessageId: "m", delta: "{" },
      { type: "TOOL_CALL_CHUNK", delta: "}" },
      { type: "REASONING_MESSAGE_CHUNK", messageId: "rm", delta: "hmm" },
      { type: "TEXT_MESSAGE_START", messageId: "m2" },
    ].flatMap((event) => state.accept(event));
    expect(out.map((e) => e.type)).toEqual([
      "TOOL_CALL_START",
      "TOOL_CALL_ARGS",
      "TOOL_CALL_ARGS",
      "TOOL_CALL_END",
      "REASONING_MESSAGE_START",
      "REASONING_MESSAGE_CONTENT",
      "REASONING_MESSAGE_END",
      "TEXT_MESSAGE_START",
    ]);
    expect(out[0]).toEqual({ type: "TOOL_CALL_START", toolCallId: "c", toolCallName: "f", parentMessageId: "m" });
  });

  it("does not double-close a chunk lane that the agent ends explicitly", () => {
    const state = new StreamState("t", "r");
    const out = [
      { type: "TEXT_MESSAGE_CHUNK", messageId: "m", delta: "a" },
      { type: "TEXT_MESSAGE_END", messageId: "m" },
      { type: "RUN_FINISHED", threadId: "t", runId: "r" },
    ].flatMap((event) => state.accept(event));
    expect(out.map((e) => e.type)).toEqual(["TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END", "RUN_FINISHED"]);
  });

  it("skips empty chunk deltas, which 0.0.49 and older clients reject", () => {
    const state = new StreamState("t", "r");
    const out = state.accept({ type: "TEXT_MESSAGE_CHUNK", messageId: "m", delta: "" });
    expect(out.map((e) => e.type)).toEqual(["TEXT_MESSAGE_START"]);
  });
});
