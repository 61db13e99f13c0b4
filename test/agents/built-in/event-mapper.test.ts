import { describe, expect, it } from "vitest";
import { AguiEventMapper, type StreamPart } from "../../../src/agents/built-in/event-mapper.js";
import { expectValidStream, types } from "./helpers/verify.js";
import type { AnyEvent } from "./helpers/verify.js";

function mapAll(parts: Array<Record<string, unknown>>, end: "finish" | "stop" | "error" = "finish") {
  let n = 0;
  const mapper = new AguiEventMapper({ threadId: "t", runId: "r", generateId: () => `id-${++n}` });
  const events: AnyEvent[] = [...mapper.runStarted()];
  for (const part of parts) events.push(...mapper.map(part as StreamPart));
  if (end === "finish") events.push(...mapper.runFinished());
  if (end === "stop") events.push(...mapper.runStopped());
  if (end === "error") events.push(...mapper.runError({ message: "boom", code: "provider_error" }));
  return events;
}

const step = (...parts: Array<Record<string, unknown>>) => [{ type: "start-step" }, ...parts, { type: "finish-step" }];

describe("AguiEventMapper", () => {
  it("closes reasoning without reasoning-end when text starts, and gives it its own id", async () => {
    const events = mapAll(
      step(
        { type: "reasoning-start", id: "0" },
        { type: "reasoning-delta", id: "0", text: "hmm" },
        { type: "text-start", id: "0" }, // Anthropic-style ids are block indexes, reused across kinds
        { type: "text-delta", id: "0", text: "Hi" },
        { type: "text-end", id: "0" },
      ),
    );
    expect(events).toEqual([
      { type: "RUN_STARTED", threadId: "t", runId: "r" },
      { type: "REASONING_START", messageId: "id-3" },
      { type: "REASONING_MESSAGE_START", messageId: "id-3", role: "reasoning" },
      { type: "REASONING_MESSAGE_CONTENT", messageId: "id-3", delta: "hmm" },
      { type: "REASONING_MESSAGE_END", messageId: "id-3" },
      { type: "REASONING_END", messageId: "id-3" },
      { type: "TEXT_MESSAGE_START", messageId: "id-2", role: "assistant" },
      { type: "TEXT_MESSAGE_CONTENT", messageId: "id-2", delta: "Hi" },
      { type: "TEXT_MESSAGE_END", messageId: "id-2" },
      { type: "RUN_FINISHED", threadId: "t", runId: "r" },
    ]);
    await expectValidStream(events);
  });

  it.each(["finish", "stop", "error"] as const)("closes open reasoning and text at the end of the run (%s)", async (end) => {
    const events = mapAll(
      [
        { type: "start-step" },
        { type: "text-start", id: "a" },
        { type: "text-delta", id: "a", text: "x" },
        { type: "reasoning-start", id: "b" },
        { type: "reasoning-delta", id: "b", text: "y" },
      ],
      end,
    );
    expect(types(events)).toEqual([
      "RUN_STARTED",
      "TEXT_MESSAGE_START",
      "TEXT_MESSAGE_CONTENT",
      "TEXT_MESSAGE_END", // text closes when reasoning opens
      "REASONING_START",
      "REASONING_MESSAGE_START",
      "REASONING_MESSAGE_CONTENT",
      "REASONING_MESSAGE_END",
      "REASONING_END",
      end === "error" ? "RUN_ERROR" : "RUN_FINISHED",
    ]);
    await expectValidStream(events);
  });

  it("skips empty deltas and never opens empty messages", async () => {
    const events = mapAll(
      step(
        { type: "reasoning-start", id: "r" },
        { type: "reasoning-delta", id: "r", text: "" },
        { type: "reasoning-end", id: "r" },
        { type: "text-start", id: "t" },
        { type: "text-delta", id: "t", text: "" },
        { type: "text-end", id: "t" },
        { type: "tool-input-start", id: "c", toolName: "f" },
        { type: "tool-input-delta", id: "c", delta: "" },
        { type: "tool-call", toolCallId: "c", toolName: "f", input: {} },
      ),
    );
    expect(types(events)).toEqual(["RUN_STARTED", "TOOL_CALL_START", "TOOL_CALL_ARGS", "TOOL_CALL_END", "RUN_FINISHED"]);
    expect(events[2]).toMatchObject({ delta: "{}" });
    await expectValidStream(events);
  });

  it("gives a second text block of a step its own message id and parents tool calls on the step", async () => {
    const events = mapAll(
      step(
        { type: "text-start", id: "1" },
        { type: "text-delta", id: "1", text: "a" },
        { type: "text-end", id: "1" },
        { type: "tool-input-start", id: "call", toolName: "f" },
        { type: "tool-input-delta", id: "call", delta: '{"k":1}' },
        { type: "tool-call", toolCallId: "call", toolName: "f", input: { k: 1 } },
        { type: "text-start", id: "2" },
        { type: "text-delta", id: "2", text: "b" },
      ),
    );
    const starts = events.filter((event) => event.type === "TEXT_MESSAGE_START");
    expect(starts.map((start) => start.messageId)).toEqual(["id-2", "id-3"]);
    expect(events.find((event) => event.type === "TOOL_CALL_START")).toMatchObject({ parentMessageId: "id-2" });
    await expectValidStream(events);
  });

  it("handles text deltas without text-start", async () => {
    const events = mapAll(step({ type: "text-delta", id: "x", text: "hi" }));
    expect(types(events)).toEqual(["RUN_STARTED", "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END", "RUN_FINISHED"]);
  });

  it("ignores provider-executed tools", async () => {
    const events = mapAll(
      step(
        { type: "tool-input-start", id: "ws", toolName: "web_search", providerExecuted: true },
        { type: "tool-input-delta", id: "ws", delta: "{}" },
        { type: "tool-call", toolCallId: "ws", toolName: "web_search", input: {}, providerExecuted: true },
        { type: "tool-result", toolCallId: "ws", toolName: "web_search", input: {}, output: {}, providerExecuted: true },
      ),
    );
    expect(types(events)).toEqual(["RUN_STARTED", "RUN_FINISHED"]);
  });

  it("marks unanswered tool calls as stopped on stop, and failed on error", async () => {
    const parts = [
      { type: "start-step" },
      { type: "tool-input-start", id: "c", toolName: "f" },
      { type: "tool-input-delta", id: "c", delta: '{"a":' },
    ];
    const stopped = mapAll(parts, "stop");
    expect(types(stopped).slice(-3)).toEqual(["TOOL_CALL_END", "TOOL_CALL_RESULT", "RUN_FINISHED"]);
    expect(JSON.parse(stopped.at(-2)!.content)).toMatchObject({ status: "stopped" });
    await expectValidStream(stopped);
    const failed = mapAll(parts, "error");
    expect(types(failed).slice(-3)).toEqual(["TOOL_CALL_END", "TOOL_CALL_RESULT", "RUN_ERROR"]);
    expect(failed.at(-1)).toEqual({ type: "RUN_ERROR", message: "boom", code: "provider_error" });
    await expectValidStream(failed);
  });

  it("leaves a completed client tool call unanswered on a normal finish", () => {
    const events = mapAll(step({ type: "tool-call", toolCallId: "c", toolName: "f", input: { a: 1 } }));
    expect(types(events)).toEqual(["RUN_STARTED", "TOOL_CALL_START", "TOOL_CALL_ARGS", "TOOL_CALL_END", "RUN_FINISHED"]);
  });

  it("emits exactly one terminal event", () => {
    const mapper = new AguiEventMapper({ threadId: "t", runId: "r" });
    const events = [...mapper.runStarted(), ...mapper.runFinished(), ...mapper.runError({ message: "x", code: "internal_error" }), ...mapper.runStopped()];
    expect(types(events)).toEqual(["RUN_STARTED", "RUN_FINISHED"]);
    expect(mapper.map({ type: "text-delta", id: "a", text: "late" } as StreamPart)).toEqual([]);
  });

  it("attaches a Gemini thought signature to its tool call", async () => {
    const events = mapAll(
      step({ type: "tool-call", toolCallId: "c", toolName: "f", input: {}, providerMetadata: { google: { thoughtSignature: "ts" } } }),
    );
    expect(events.find((event) => event.type === "REASONING_ENCRYPTED_VALUE")).toEqual({
      type: "REASONING_ENCRYPTED_VALUE",
      subtype: "tool-call",
      entityId: "c",
      encryptedValue: JSON.stringify({ v: 1, google: { thoughtSignature: "ts" } }),
    });
    const replays = await expectValidStream(events);
    expect(replays[0].messages[0]).toMatchObject({ toolCalls: [{ id: "c", encryptedValue: expect.any(String) }] });
  });

  it("starts a new reasoning message when the provider switches reasoning blocks", async () => {
    const events = mapAll(
      step(
        { type: "reasoning-start", id: "a" },
        { type: "reasoning-delta", id: "a", text: "1" },
        { type: "reasoning-start", id: "b" },
        { type: "reasoning-delta", id: "b", text: "2" },
      ),
    );
    const ids = events.filter((event) => event.type === "REASONING_MESSAGE_START").map((event) => (event).messageId);
    expect(new Set(ids).size).toBe(2);
    await expectValidStream(events);
  });
});
