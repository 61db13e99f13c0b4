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
    state.accept({ type: "RUN_STARTED", threadId: "t", runId: "r" });
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
    state.accept({ type: "RUN_STARTED", threadId: "t", runId: "r" });
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

  describe("refuses what AG-UI's verifier rejects, and still closes what the stream opened", () => {
    const started = { type: "RUN_STARTED", threadId: "t", runId: "r" };
    const cases: Array<[string, Array<Record<string, unknown> & { type: string }>, RegExp]> = [
      ["content for a message never started", [started, { type: "TEXT_MESSAGE_CONTENT", messageId: "x", delta: "a" }], /never started/],
      ["a second RUN_STARTED", [started, started], /second RUN_STARTED/],
      ["an event after RUN_FINISHED", [started, { type: "RUN_FINISHED", threadId: "t", runId: "r" }, { type: "CUSTOM", name: "late", value: 1 }], /after the run ended with RUN_FINISHED/],
      ["an event after RUN_ERROR", [started, { type: "RUN_ERROR", message: "x" }, { type: "RUN_ERROR", message: "y" }], /after the run ended with RUN_ERROR/],
      ["the end of a tool call never started", [started, { type: "TOOL_CALL_END", toolCallId: "c" }], /tool call 'c' that was never started/],
      ["args for a tool call never started", [started, { type: "TOOL_CALL_ARGS", toolCallId: "c", delta: "{" }], /never started/],
      ["a text message started twice", [started, { type: "TEXT_MESSAGE_START", messageId: "m" }, { type: "TEXT_MESSAGE_START", messageId: "m" }], /already in progress/],
      ["a step finished that never started", [started, { type: "STEP_FINISHED", stepName: "s" }], /never started/],
      ["a reasoning end never started", [started, { type: "REASONING_END", messageId: "r" }], /never started/],
      ["an event before RUN_STARTED", [{ type: "TEXT_MESSAGE_START", messageId: "m" }], /before RUN_STARTED/],
      ["RUN_FINISHED with a message open", [started, { type: "TEXT_MESSAGE_START", messageId: "m" }, { type: "RUN_FINISHED", threadId: "t", runId: "r" }], /still open: text message 'm'/],
    ];
    it.each(cases)("%s", (_name, events, problem) => {
      const state = new StreamState("t", "r");
      const out = events.flatMap((event) => state.accept(event));
      expect(state.invalid).toMatch(problem);
      // The refused event is not passed on.
      expect(out).toEqual(events.slice(0, -1));
    });

    it("passes valid sequences, with several runs and a RUN_ERROR after RUN_FINISHED", () => {
      const state = new StreamState("t", "r");
      for (const event of [
        started,
        { type: "STEP_STARTED", stepName: "s" },
        { type: "TEXT_MESSAGE_START", messageId: "m" },
        { type: "TEXT_MESSAGE_CONTENT", messageId: "m", delta: "a" },
        { type: "TEXT_MESSAGE_END", messageId: "m" },
        { type: "TOOL_CALL_START", toolCallId: "c", toolCallName: "f" },
        { type: "TOOL_CALL_ARGS", toolCallId: "c", delta: "{}" },
        { type: "TOOL_CALL_END", toolCallId: "c" },
        { type: "TOOL_CALL_RESULT", toolCallId: "c", messageId: "res", content: "ok" },
        { type: "STEP_FINISHED", stepName: "s" },
        { type: "RUN_FINISHED", threadId: "t", runId: "r" },
        { type: "RUN_ERROR", message: "late" },
        { type: "RUN_STARTED", threadId: "t", runId: "r2" },
        { type: "TEXT_MESSAGE_CHUNK", messageId: "m2", delta: "b" },
        { type: "RUN_FINISHED", threadId: "t", runId: "r2" },
      ]) {
        state.accept(event);
        expect(state.invalid, event.type).toBeUndefined();
      }
    });

    it("closes a chunk lane the refused event would have closed, so finalize leaves nothing dangling", () => {
      const state = new StreamState("t", "r");
      state.accept(started);
      state.accept({ type: "TEXT_MESSAGE_CHUNK", messageId: "m", delta: "a" });
      const out = state.accept({ type: "TOOL_CALL_END", toolCallId: "nope" });
      expect(out).toEqual([{ type: "TEXT_MESSAGE_END", messageId: "m" }]);
      expect(state.invalid).toMatch(/never started/);
      expect(state.finalize({ kind: "error", code: "INVALID_EVENT_SEQUENCE", message: "m" }).map((e) => e.type)).toEqual(["RUN_ERROR"]);
    });
  });
});
