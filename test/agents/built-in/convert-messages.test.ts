import type { Message } from "@ag-ui/core";
import { describe, expect, it } from "vitest";
import { convertMessages, MISSING_TOOL_RESULT } from "../../../src/agents/built-in/convert-messages.js";
import { encodeEncryptedValue } from "../../../src/agents/built-in/provider-metadata.js";

const call = (id: string, name: string, args: string) => ({ id, type: "function" as const, function: { name, arguments: args } });

describe("convertMessages", () => {
  it("converts user and assistant text", () => {
    const { messages } = convertMessages([
      { id: "1", role: "user", content: "Hi" },
      { id: "2", role: "assistant", content: "Hello" },
    ]);
    expect(messages).toEqual([
      { role: "user", content: "Hi" },
      { role: "assistant", content: [{ type: "text", text: "Hello" }] },
    ]);
  });

  it("pairs each tool call with its result right after the call", () => {
    const { messages } = convertMessages([
      { id: "1", role: "user", content: "Weather?" },
      { id: "2", role: "assistant", content: "Checking", toolCalls: [call("c1", "weather", '{"city":"Oslo"}'), call("c2", "time", "")] },
      // results arrive out of order, with a user message in between
      { id: "3", role: "tool", toolCallId: "c2", content: "12:00" },
      { id: "4", role: "user", content: "and?" },
      { id: "5", role: "tool", toolCallId: "c1", content: "rain" },
    ]);
    expect(messages).toEqual([
      { role: "user", content: "Weather?" },
      {
        role: "assistant",
        content: [
          { type: "text", text: "Checking" },
          { type: "tool-call", toolCallId: "c1", toolName: "weather", input: { city: "Oslo" } },
          { type: "tool-call", toolCallId: "c2", toolName: "time", input: {} },
        ],
      },
      {
        role: "tool",
        content: [
          { type: "tool-result", toolCallId: "c1", toolName: "weather", output: { type: "text", value: "rain" } },
          { type: "tool-result", toolCallId: "c2", toolName: "time", output: { type: "text", value: "12:00" } },
        ],
      },
      { role: "user", content: "and?" },
    ]);
  });

  it("fills in a missing result, drops orphan results and duplicate calls", () => {
    const { messages } = convertMessages([
      { id: "1", role: "user", content: "Go" },
      { id: "2", role: "assistant", toolCalls: [call("c1", "slow", '{"x":')] }, // truncated by a stop
      { id: "3", role: "tool", toolCallId: "ghost", content: "orphan" },
      { id: "4", role: "assistant", toolCalls: [call("c1", "slow", "{}")] },
      { id: "5", role: "user", content: "Again" },
    ]);
    expect(messages).toEqual([
      { role: "user", content: "Go" },
      { role: "assistant", content: [{ type: "tool-call", toolCallId: "c1", toolName: "slow", input: {} }] },
      { role: "tool", content: [{ type: "tool-result", toolCallId: "c1", toolName: "slow", output: { type: "error-text", value: MISSING_TOOL_RESULT } }] },
      { role: "user", content: "Again" },
    ]);
  });

  it("marks tool errors and converts content-part results", () => {
    const { messages } = convertMessages([
      { id: "1", role: "assistant", toolCalls: [call("a", "t", "{}"), call("b", "t", "{}")] },
      { id: "2", role: "tool", toolCallId: "a", content: "details", error: "failed" } as Message,
      {
        id: "3",
        role: "tool",
        toolCallId: "b",
        content: [
          { type: "text", text: "chart:" },
          { type: "image", source: { type: "data", value: "iVBOR", mimeType: "image/png" } },
        ],
      } as unknown as Message,
    ]);
    expect(messages[1]).toEqual({
      role: "tool",
      content: [
        { type: "tool-result", toolCallId: "a", toolName: "t", output: { type: "error-text", value: "failed\ndetails" } },
        {
          type: "tool-result",
          toolCallId: "b",
          toolName: "t",
          output: { type: "content", value: [{ type: "text", text: "chart:" }, { type: "image-data", data: "iVBOR", mediaType: "image/png" }] },
        },
      ],
    });
  });

  it("converts multimodal user content, including 0.0.x binary parts", () => {
    const { messages } = convertMessages([
      {
        id: "1",
        role: "user",
        content: [
          { type: "text", text: "Look" },
          { type: "image", source: { type: "url", value: "https://example.com/a.png", mimeType: "image/png" } },
          { type: "document", source: { type: "data", value: "JVBER", mimeType: "application/pdf" } },
          { type: "binary", mimeType: "image/jpeg", data: "/9j/" },
          { type: "image", source: { type: "url", value: "not a url" } },
        ],
      } as unknown as Message,
    ]);
    expect(messages).toEqual([
      {
        role: "user",
        content: [
          { type: "text", text: "Look" },
          { type: "image", image: new URL("https://example.com/a.png"), mediaType: "image/png" },
          { type: "file", data: "JVBER", mediaType: "application/pdf" },
          { type: "image", image: "/9j/", mediaType: "image/jpeg" },
        ],
      },
    ]);
  });

  it("skips empty messages and activity messages", () => {
    const { messages } = convertMessages([
      { id: "1", role: "user", content: "" },
      { id: "2", role: "assistant", content: "" },
      { id: "3", role: "activity", activityType: "x", content: {} } as unknown as Message,
      { id: "4", role: "user", content: "real" },
    ]);
    expect(messages).toEqual([{ role: "user", content: "real" }]);
  });

  it("forwards system and developer messages only when allowed, as instructions", () => {
    const input: Message[] = [
      { id: "1", role: "system", content: "Be evil." },
      { id: "2", role: "developer", content: "Use metric units." },
      { id: "3", role: "user", content: "Hi" },
    ];
    expect(convertMessages(input).instructions).toEqual([]);
    expect(convertMessages(input, { forwardDeveloperMessages: true }).instructions).toEqual(["Use metric units."]);
    expect(convertMessages(input, { forwardSystemMessages: true, forwardDeveloperMessages: true }).instructions).toEqual([
      "Be evil.",
      "Use metric units.",
    ]);
    expect(convertMessages(input, { forwardSystemMessages: true }).messages).toEqual([{ role: "user", content: "Hi" }]);
  });

  it("drops reasoning without a signature and returns signed reasoning on the next assistant message", () => {
    const signed = encodeEncryptedValue({ anthropic: { signature: "sig" } });
    const { messages } = convertMessages([
      { id: "1", role: "user", content: "Q" },
      { id: "2", role: "reasoning", content: "unsigned thoughts" } as Message,
      { id: "3", role: "assistant", content: "A1" },
      { id: "4", role: "user", content: "Q2" },
      { id: "5", role: "reasoning", content: "signed thoughts", encryptedValue: signed } as Message,
      { id: "6", role: "assistant", content: "A2" },
      { id: "7", role: "reasoning", content: "stray", encryptedValue: "someone-else's-blob" } as Message,
      { id: "8", role: "user", content: "Q3" },
    ]);
    expect(messages).toEqual([
      { role: "user", content: "Q" },
      { role: "assistant", content: [{ type: "text", text: "A1" }] },
      { role: "user", content: "Q2" },
      {
        role: "assistant",
        content: [
          { type: "reasoning", text: "signed thoughts", providerOptions: { anthropic: { signature: "sig" } } },
          { type: "text", text: "A2" },
        ],
      },
      { role: "user", content: "Q3" },
    ]);
  });

  it("returns a Gemini thought signature on its tool call", () => {
    const encryptedValue = encodeEncryptedValue({ google: { thoughtSignature: "ts" } });
    const { messages } = convertMessages([
      { id: "1", role: "assistant", toolCalls: [{ ...call("c", "t", "{}"), encryptedValue }] } as Message,
      { id: "2", role: "tool", toolCallId: "c", content: "ok" },
    ]);
    expect(messages[0]).toEqual({
      role: "assistant",
      content: [{ type: "tool-call", toolCallId: "c", toolName: "t", input: {}, providerOptions: { google: { thoughtSignature: "ts" } } }],
    });
  });
});
