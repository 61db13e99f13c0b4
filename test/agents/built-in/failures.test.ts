import { createOpenAI } from "@ai-sdk/openai";
import { describe, expect, it } from "vitest";
import { BuiltInAgent } from "../../../src/agents/built-in/index.js";
import type { BuiltInAgentConfig } from "../../../src/agents/built-in/index.js";
import { useFakeProvider, type ScriptedResponse } from "./helpers/fake-provider.js";
import { agentLines, useLogCapture } from "./helpers/logs.js";
import {
  anthropic,
  anthropicError,
  anthropicStream,
  chatStream,
  geminiStream,
  googleError,
  openaiError,
  responses,
  responsesStream,
} from "./helpers/scripts.js";
import { collect, expectValidStream, makeInput, types } from "./helpers/verify.js";

/*
 * The error classification table, provider by provider and wire format by wire format: each case is
 * played by the fake provider through the real AI SDK provider client, and checked on both sides —
 * what the client gets (a stable code, a safe message) and the one log line operators get (who,
 * where, the provider's status and text, redacted).
 */

const provider = useFakeProvider();
const logs = useLogCapture();

// Markers of what must never reach the client: the provider's words, an upstream address, the key.
const UPSTREAM = "upstream 10.0.0.5:8443 trace-7f3a";
const KEY = "plain0key0with0no0known0shape";

type Wire = "responses" | "chat" | "anthropic" | "google";

const models: Record<Wire, { config: () => Partial<BuiltInAgentConfig>; provider: string }> = {
  responses: { config: () => ({ model: "openai/gpt-4o", apiKey: KEY, baseURL: provider.url }), provider: "openai.responses" },
  // a model object: the key is not ours to know, yet it is still redacted
  chat: { config: () => ({ model: createOpenAI({ apiKey: KEY, baseURL: provider.url }).chat("gpt-4o") }), provider: "openai.chat" },
  anthropic: { config: () => ({ model: "anthropic/claude-sonnet-4-5", apiKey: KEY, baseURL: provider.url }), provider: "anthropic.messages" },
  google: { config: () => ({ model: "google/gemini-2.5-flash", apiKey: KEY, baseURL: provider.url }), provider: "google.generative-ai" },
};

interface Case {
  name: string;
  wire: Wire;
  script: () => ScriptedResponse;
  code: string;
  level: "warn" | "error";
  status?: number;
  message: string | RegExp;
  /** The provider's text the log line must carry (redacted). */
  logged?: string;
}

const withoutTerminal = (script: ScriptedResponse, keep: number): ScriptedResponse => ({ ...script, sse: script.sse!.slice(0, keep) });
const cut = (script: ScriptedResponse, keep: number): ScriptedResponse => ({ ...withoutTerminal(script, keep), cut: true });
const malformed = (script: ScriptedResponse, at: number, event?: string): ScriptedResponse => {
  const sse = [...script.sse!];
  sse.splice(at, 0, { event, data: "{not json" });
  return { ...script, sse };
};
const responsesWith = (frame: { event: string; data: Record<string, unknown> }): ScriptedResponse => {
  const script = responsesStream([responses.text("Partial ")], { hang: true });
  return { sse: [...script.sse!, frame] };
};
const anthropicWith = (type: string, message: string): ScriptedResponse => {
  const script = anthropicStream([anthropic.text("Partial ")]);
  script.sse!.splice(-2, 2, { event: "error", data: { type: "error", error: { type, message } } });
  return script;
};
const chatWith = (error: Record<string, unknown>): ScriptedResponse => {
  const script = chatStream({ text: ["Partial "] });
  script.sse!.splice(2, 0, { data: { error } });
  return script;
};
const providerText = `${UPSTREAM}; key ${KEY}`;
const BROKE_OFF = "The model provider's response broke off or could not be read.";
const ENDED_EARLY = "The model provider's response ended before it was complete.";
const UNREADABLE = "The model provider sent a response that could not be read.";

const cases: Case[] = [
  // ------------------------------------------------------------ OpenAI Responses API
  { name: "HTTP 400", wire: "responses", script: () => openaiError(400, providerText), code: "invalid_request", level: "warn", status: 400, message: "The model provider rejected the request (HTTP 400).", logged: UPSTREAM },
  { name: "HTTP 401", wire: "responses", script: () => openaiError(401, providerText), code: "authentication_failed", level: "error", status: 401, message: "The model provider rejected the API key (HTTP 401).", logged: UPSTREAM },
  { name: "HTTP 403", wire: "responses", script: () => openaiError(403, providerText), code: "authentication_failed", level: "error", status: 403, message: /rejected the API key \(HTTP 403\)/ },
  { name: "HTTP 404", wire: "responses", script: () => openaiError(404, providerText), code: "invalid_model", level: "error", status: 404, message: "The model provider does not know this model (HTTP 404).", logged: UPSTREAM },
  { name: "HTTP 429", wire: "responses", script: () => openaiError(429, providerText), code: "rate_limited", level: "error", status: 429, message: /rate limiting requests \(HTTP 429\)/, logged: UPSTREAM },
  { name: "HTTP 500", wire: "responses", script: () => openaiError(500, providerText), code: "provider_error", level: "error", status: 500, message: "The model provider failed (HTTP 500).", logged: UPSTREAM },
  { name: "HTTP 502 with an HTML page", wire: "responses", script: () => ({ status: 502, headers: { "content-type": "text/html" }, json: `<html>${UPSTREAM}</html>` }), code: "provider_error", level: "error", status: 502, message: "The model provider failed (HTTP 502).", logged: UPSTREAM },
  { name: "stream `error` event", wire: "responses", script: () => responsesWith({ event: "error", data: { type: "error", code: "server_error", message: providerText, param: null, sequence_number: 90 } }), code: "provider_error", level: "error", message: "The model provider failed while streaming.", logged: UPSTREAM },
  { name: "stream `error` event, rate limit", wire: "responses", script: () => responsesWith({ event: "error", data: { type: "error", code: "rate_limit_exceeded", message: providerText, param: null, sequence_number: 90 } }), code: "rate_limited", level: "error", message: /rate limiting/, logged: UPSTREAM },
  { name: "`response.failed`", wire: "responses", script: () => responsesWith({ event: "response.failed", data: { type: "response.failed", sequence_number: 90, response: { id: "resp_1", object: "response", created_at: 1, model: "gpt-4o", status: "failed", output: [], error: { code: "server_error", message: providerText }, incomplete_details: null, usage: null } } }), code: "provider_error", level: "error", message: "The model provider failed while streaming.", logged: UPSTREAM },
  { name: "cut stream", wire: "responses", script: () => cut(responsesStream([responses.text("Partial ")]), 5), code: "provider_error", level: "error", status: 200, message: BROKE_OFF },
  { name: "stream that ends without `response.completed`", wire: "responses", script: () => withoutTerminal(responsesStream([responses.text("Partial ")]), 5), code: "provider_error", level: "error", message: ENDED_EARLY },
  { name: "malformed SSE", wire: "responses", script: () => malformed(responsesStream([responses.text("Partial ")]), 4), code: "provider_error", level: "error", message: UNREADABLE },
  // ------------------------------------------------------------ OpenAI Chat Completions
  { name: "HTTP 400", wire: "chat", script: () => openaiError(400, providerText), code: "invalid_request", level: "warn", status: 400, message: "The model provider rejected the request (HTTP 400).", logged: UPSTREAM },
  { name: "HTTP 429", wire: "chat", script: () => openaiError(429, providerText), code: "rate_limited", level: "error", status: 429, message: /rate limiting/, logged: UPSTREAM },
  { name: "HTTP 500", wire: "chat", script: () => openaiError(500, providerText), code: "provider_error", level: "error", status: 500, message: "The model provider failed (HTTP 500).", logged: UPSTREAM },
  { name: "error chunk", wire: "chat", script: () => chatWith({ message: providerText, type: "server_error", code: null }), code: "provider_error", level: "error", message: "The model provider failed while streaming.", logged: UPSTREAM },
  { name: "error chunk, context too long", wire: "chat", script: () => chatWith({ message: providerText, type: "invalid_request_error", code: "context_length_exceeded" }), code: "invalid_request", level: "warn", message: "The conversation is too long for the model.", logged: UPSTREAM },
  { name: "cut stream", wire: "chat", script: () => cut(chatStream({ text: ["Partial "] }), 2), code: "provider_error", level: "error", status: 200, message: BROKE_OFF },
  { name: "stream that ends without a finish reason", wire: "chat", script: () => withoutTerminal(chatStream({ text: ["Partial "] }), 2), code: "provider_error", level: "error", message: ENDED_EARLY },
  { name: "malformed SSE", wire: "chat", script: () => malformed(chatStream({ text: ["Partial "] }), 2), code: "provider_error", level: "error", message: UNREADABLE },
  // ------------------------------------------------------------ Anthropic Messages
  { name: "HTTP 400", wire: "anthropic", script: () => anthropicError(400, "invalid_request_error", providerText), code: "invalid_request", level: "warn", status: 400, message: "The model provider rejected the request (HTTP 400).", logged: UPSTREAM },
  { name: "HTTP 401", wire: "anthropic", script: () => anthropicError(401, "authentication_error", providerText), code: "authentication_failed", level: "error", status: 401, message: /rejected the API key/, logged: UPSTREAM },
  { name: "HTTP 429", wire: "anthropic", script: () => anthropicError(429, "rate_limit_error", providerText), code: "rate_limited", level: "error", status: 429, message: /rate limiting/, logged: UPSTREAM },
  { name: "HTTP 529 overloaded", wire: "anthropic", script: () => anthropicError(529, "overloaded_error", providerText), code: "provider_error", level: "error", status: 529, message: "The model provider failed (HTTP 529).", logged: UPSTREAM },
  { name: "stream `error` event, overloaded", wire: "anthropic", script: () => anthropicWith("overloaded_error", providerText), code: "provider_error", level: "error", message: "The model provider failed while streaming.", logged: UPSTREAM },
  { name: "stream `error` event, rate limit", wire: "anthropic", script: () => anthropicWith("rate_limit_error", providerText), code: "rate_limited", level: "error", message: /rate limiting/, logged: UPSTREAM },
  { name: "stream `error` event, invalid request", wire: "anthropic", script: () => anthropicWith("invalid_request_error", providerText), code: "invalid_request", level: "warn", message: "The model provider rejected the request.", logged: UPSTREAM },
  { name: "cut stream", wire: "anthropic", script: () => cut(anthropicStream([anthropic.text("Partial ")]), 4), code: "provider_error", level: "error", status: 200, message: BROKE_OFF },
  { name: "stream that ends without `message_delta`", wire: "anthropic", script: () => withoutTerminal(anthropicStream([anthropic.text("Partial ")]), 4), code: "provider_error", level: "error", message: ENDED_EARLY },
  { name: "malformed SSE", wire: "anthropic", script: () => malformed(anthropicStream([anthropic.text("Partial ")]), 3, "content_block_delta"), code: "provider_error", level: "error", message: UNREADABLE },
  // ------------------------------------------------------------ Google Gemini
  { name: "HTTP 400", wire: "google", script: () => googleError(400, "INVALID_ARGUMENT", providerText), code: "invalid_request", level: "warn", status: 400, message: "The model provider rejected the request (HTTP 400).", logged: UPSTREAM },
  { name: "HTTP 403", wire: "google", script: () => googleError(403, "PERMISSION_DENIED", providerText), code: "authentication_failed", level: "error", status: 403, message: /rejected the API key/, logged: UPSTREAM },
  { name: "HTTP 429", wire: "google", script: () => googleError(429, "RESOURCE_EXHAUSTED", providerText), code: "rate_limited", level: "error", status: 429, message: /rate limiting/, logged: UPSTREAM },
  { name: "HTTP 500", wire: "google", script: () => googleError(500, "INTERNAL", providerText), code: "provider_error", level: "error", status: 500, message: "The model provider failed (HTTP 500).", logged: UPSTREAM },
  // Gemini's error chunk carries an HTTP code of its own, which the AI SDK reports as the status.
  { name: "error chunk", wire: "google", script: () => ({ sse: [{ data: { error: { code: 500, message: providerText, status: "INTERNAL" } } }] }), code: "provider_error", level: "error", status: 500, message: "The model provider failed (HTTP 500).", logged: UPSTREAM },
  { name: "cut stream", wire: "google", script: () => cut(geminiStream(["Partial ", "answer"]), 1), code: "provider_error", level: "error", status: 200, message: BROKE_OFF },
  { name: "stream that ends without a finish reason", wire: "google", script: () => withoutTerminal(geminiStream(["Partial ", "answer"]), 1), code: "provider_error", level: "error", message: ENDED_EARLY },
  { name: "malformed SSE", wire: "google", script: () => malformed(geminiStream(["Partial ", "answer"]), 1), code: "provider_error", level: "error", message: UNREADABLE },
];

describe("BuiltInAgent failure classification", () => {
  it.each(cases.map((c) => [`${c.wire}: ${c.name}`, c] as const))("%s", async (_, c) => {
    provider.enqueue(c.script());
    const agent = new BuiltInAgent({ ...models[c.wire].config(), maxRetries: 0, agentId: "support" } as BuiltInAgentConfig);
    const events = await collect(agent.run(makeInput({ threadId: "t-fail", runId: "r-fail" })));

    // The client: a stable code and a safe message, nothing of the provider's.
    const error = events.at(-1)!;
    expect(error).toMatchObject({ type: "RUN_ERROR", code: c.code });
    if (typeof c.message === "string") expect(error.message).toBe(c.message);
    else expect(error.message).toMatch(c.message);
    const wire = JSON.stringify(events);
    expect(wire).not.toContain("10.0.0.5");
    expect(wire).not.toContain("trace-7f3a");
    expect(wire).not.toContain(KEY);
    expect(wire).not.toContain("127.0.0.1");
    await expectValidStream(events);

    // The log: one line, at the right level, with who, where and what the provider said.
    const lines = agentLines(logs);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: c.level,
      message: `BuiltInAgent run failed: ${c.code}`,
      details: { agent: "support", threadId: "t-fail", runId: "r-fail", provider: models[c.wire].provider, code: c.code },
    });
    expect(lines[0].details.status).toBe(c.status);
    if (c.logged) expect(lines[0].details.providerMessage).toContain(c.logged);
    expect(lines[0].text).not.toContain(KEY);
  });

  it("keeps the text that streamed before a failure and closes it", async () => {
    provider.enqueue(cut(responsesStream([responses.text("Partial ")]), 5));
    const events = await collect(new BuiltInAgent({ ...models.responses.config(), maxRetries: 0 } as BuiltInAgentConfig).run(makeInput()));
    expect(types(events)).toEqual(["RUN_STARTED", "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END", "RUN_ERROR"]);
  });
});
