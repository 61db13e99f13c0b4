import type { ScriptedResponse, SseFrame } from "./fake-provider.js";

/*
 * Scripted provider streams, written from the providers' API references:
 * - OpenAI Responses API streaming (what `openai(model)` of @ai-sdk/openai v3 calls: POST /responses);
 * - OpenAI Chat Completions streaming (`openai.chat(model)`: POST /chat/completions);
 * - Anthropic Messages streaming (POST /messages).
 */

// ---------------------------------------------------------------- OpenAI Responses API

type ResponsesItem =
  | { kind: "text"; text: string[] }
  | { kind: "call"; callId: string; name: string; args: string[] }
  | { kind: "reasoning"; summary: string[] };

export const responses = {
  text: (...text: string[]): ResponsesItem => ({ kind: "text", text }),
  call: (callId: string, name: string, ...args: string[]): ResponsesItem => ({ kind: "call", callId, name, args }),
  reasoning: (...summary: string[]): ResponsesItem => ({ kind: "reasoning", summary }),
};

/** A complete Responses API stream producing the given output items in order. */
export function responsesStream(items: ResponsesItem[], options: { hang?: boolean; frameDelayMs?: number } = {}): ScriptedResponse {
  let seq = 0;
  const frame = (type: string, payload: Record<string, unknown>): SseFrame => ({
    event: type,
    data: { type, sequence_number: seq++, ...payload },
  });
  const response = { id: "resp_1", object: "response", created_at: 1741290958, model: "gpt-4o-2024-08-06", output: [] };
  const frames: SseFrame[] = [
    frame("response.created", { response: { ...response, status: "in_progress" } }),
    frame("response.in_progress", { response: { ...response, status: "in_progress" } }),
  ];
  const output: unknown[] = [];
  items.forEach((item, index) => {
    if (item.kind === "text") {
      const id = `msg_${index}`;
      const full = item.text.join("");
      frames.push(frame("response.output_item.added", { output_index: index, item: { id, type: "message", status: "in_progress", role: "assistant", content: [] } }));
      frames.push(frame("response.content_part.added", { item_id: id, output_index: index, content_index: 0, part: { type: "output_text", text: "", annotations: [] } }));
      for (const delta of item.text) {
        frames.push(frame("response.output_text.delta", { item_id: id, output_index: index, content_index: 0, delta, logprobs: [] }));
      }
      const done = { id, type: "message", status: "completed", role: "assistant", content: [{ type: "output_text", text: full, annotations: [] }] };
      frames.push(frame("response.output_text.done", { item_id: id, output_index: index, content_index: 0, text: full }));
      frames.push(frame("response.content_part.done", { item_id: id, output_index: index, content_index: 0, part: done.content[0] }));
      frames.push(frame("response.output_item.done", { output_index: index, item: done }));
      output.push(done);
    } else if (item.kind === "call") {
      const id = `fc_${index}`;
      const full = item.args.join("");
      frames.push(frame("response.output_item.added", { output_index: index, item: { id, type: "function_call", status: "in_progress", call_id: item.callId, name: item.name, arguments: "" } }));
      for (const delta of item.args) {
        frames.push(frame("response.function_call_arguments.delta", { item_id: id, output_index: index, delta }));
      }
      const done = { id, type: "function_call", status: "completed", call_id: item.callId, name: item.name, arguments: full };
      frames.push(frame("response.function_call_arguments.done", { item_id: id, output_index: index, arguments: full }));
      frames.push(frame("response.output_item.done", { output_index: index, item: done }));
      output.push(done);
    } else {
      const id = `rs_${index}`;
      frames.push(frame("response.output_item.added", { output_index: index, item: { id, type: "reasoning", summary: [] } }));
      frames.push(frame("response.reasoning_summary_part.added", { item_id: id, output_index: index, summary_index: 0, part: { type: "summary_text", text: "" } }));
      for (const delta of item.summary) {
        frames.push(frame("response.reasoning_summary_text.delta", { item_id: id, output_index: index, summary_index: 0, delta }));
      }
      frames.push(frame("response.reasoning_summary_part.done", { item_id: id, output_index: index, summary_index: 0, part: { type: "summary_text", text: item.summary.join("") } }));
      const done = { id, type: "reasoning", summary: [{ type: "summary_text", text: item.summary.join("") }] };
      frames.push(frame("response.output_item.done", { output_index: index, item: done }));
      output.push(done);
    }
  });
  if (!options.hang) {
    frames.push(
      frame("response.completed", {
        response: {
          ...response,
          status: "completed",
          output,
          usage: { input_tokens: 20, input_tokens_details: { cached_tokens: 0 }, output_tokens: 10, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 30 },
        },
      }),
    );
  }
  return { sse: frames, hang: options.hang, frameDelayMs: options.frameDelayMs };
}

// ---------------------------------------------------------------- OpenAI Chat Completions

/** A Chat Completions stream with text deltas and optional tool calls. */
export function chatStream(parts: { text?: string[]; calls?: Array<{ id: string; name: string; args: string[] }> }): ScriptedResponse {
  const base = { id: "chatcmpl-1", object: "chat.completion.chunk", created: 1741290958, model: "gpt-4o-2024-08-06", system_fingerprint: "fp_1" };
  const frames: SseFrame[] = [{ data: { ...base, choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] } }];
  for (const text of parts.text ?? []) {
    frames.push({ data: { ...base, choices: [{ index: 0, delta: { content: text }, finish_reason: null }] } });
  }
  (parts.calls ?? []).forEach((call, index) => {
    frames.push({
      data: { ...base, choices: [{ index: 0, delta: { tool_calls: [{ index, id: call.id, type: "function", function: { name: call.name, arguments: "" } }] }, finish_reason: null }] },
    });
    for (const args of call.args) {
      frames.push({ data: { ...base, choices: [{ index: 0, delta: { tool_calls: [{ index, function: { arguments: args } }] }, finish_reason: null }] } });
    }
  });
  frames.push({ data: { ...base, choices: [{ index: 0, delta: {}, finish_reason: parts.calls?.length ? "tool_calls" : "stop" }] } });
  frames.push({ data: { ...base, choices: [], usage: { prompt_tokens: 20, completion_tokens: 10, total_tokens: 30 } } });
  frames.push({ data: "[DONE]" });
  return { sse: frames };
}

// ---------------------------------------------------------------- Anthropic Messages API

type AnthropicBlock =
  | { kind: "thinking"; thinking: string[]; signature?: string; omitStop?: boolean }
  | { kind: "redacted_thinking"; data: string }
  | { kind: "text"; text: string[] }
  | { kind: "tool_use"; id: string; name: string; json: string[] };

export const anthropic = {
  thinking: (thinking: string[], options: { signature?: string; omitStop?: boolean } = {}): AnthropicBlock => ({ kind: "thinking", thinking, ...options }),
  redacted: (data: string): AnthropicBlock => ({ kind: "redacted_thinking", data }),
  text: (...text: string[]): AnthropicBlock => ({ kind: "text", text }),
  toolUse: (id: string, name: string, ...json: string[]): AnthropicBlock => ({ kind: "tool_use", id, name, json }),
};

/** A Messages API stream with the given content blocks (a thinking block may leave out its stop). */
export function anthropicStream(blocks: AnthropicBlock[], options: { hang?: boolean; frameDelayMs?: number } = {}): ScriptedResponse {
  const frame = (type: string, payload: Record<string, unknown> = {}): SseFrame => ({ event: type, data: { type, ...payload } });
  const frames: SseFrame[] = [
    frame("message_start", {
      message: { id: "msg_01", type: "message", role: "assistant", content: [], model: "claude-sonnet-4-5", stop_reason: null, stop_sequence: null, usage: { input_tokens: 25, output_tokens: 1 } },
    }),
    frame("ping"),
  ];
  blocks.forEach((block, index) => {
    switch (block.kind) {
      case "thinking":
        frames.push(frame("content_block_start", { index, content_block: { type: "thinking", thinking: "", signature: "" } }));
        for (const thinking of block.thinking) frames.push(frame("content_block_delta", { index, delta: { type: "thinking_delta", thinking } }));
        if (block.signature) frames.push(frame("content_block_delta", { index, delta: { type: "signature_delta", signature: block.signature } }));
        if (!block.omitStop) frames.push(frame("content_block_stop", { index }));
        break;
      case "redacted_thinking":
        frames.push(frame("content_block_start", { index, content_block: { type: "redacted_thinking", data: block.data } }));
        frames.push(frame("content_block_stop", { index }));
        break;
      case "text":
        frames.push(frame("content_block_start", { index, content_block: { type: "text", text: "" } }));
        for (const text of block.text) frames.push(frame("content_block_delta", { index, delta: { type: "text_delta", text } }));
        if (!options.hang) frames.push(frame("content_block_stop", { index }));
        break;
      case "tool_use":
        frames.push(frame("content_block_start", { index, content_block: { type: "tool_use", id: block.id, name: block.name, input: {} } }));
        for (const partial_json of block.json) frames.push(frame("content_block_delta", { index, delta: { type: "input_json_delta", partial_json } }));
        frames.push(frame("content_block_stop", { index }));
        break;
    }
  });
  if (!options.hang) {
    const toolUse = blocks.some((block) => block.kind === "tool_use");
    frames.push(frame("message_delta", { delta: { stop_reason: toolUse ? "tool_use" : "end_turn", stop_sequence: null }, usage: { output_tokens: 15 } }));
    frames.push(frame("message_stop"));
  }
  return { sse: frames, hang: options.hang, frameDelayMs: options.frameDelayMs };
}

// ---------------------------------------------------------------- errors

export const openaiError = (status: number, message: string, headers?: Record<string, string>): ScriptedResponse => ({
  status,
  headers,
  json: { error: { message, type: status === 429 ? "requests" : "server_error", param: null, code: status === 429 ? "rate_limit_exceeded" : null } },
});

export const anthropicError = (status: number, type: string, message: string): ScriptedResponse => ({
  status,
  json: { type: "error", error: { type, message } },
});

export const googleError = (status: number, grpcStatus: string, message: string): ScriptedResponse => ({
  status,
  json: { error: { code: status, message, status: grpcStatus } },
});

// ---------------------------------------------------------------- Google Gemini (streamGenerateContent?alt=sse)

/** A Gemini stream of text chunks; the last chunk carries the finish reason and the token counts. */
export function geminiStream(text: string[], options: { finishReason?: string } = {}): ScriptedResponse {
  const frames: SseFrame[] = text.map((chunk, index) => ({
    data: {
      candidates: [
        {
          content: { parts: [{ text: chunk }], role: "model" },
          index: 0,
          ...(index === text.length - 1 ? { finishReason: options.finishReason ?? "STOP" } : {}),
        },
      ],
      ...(index === text.length - 1 ? { usageMetadata: { promptTokenCount: 12, candidatesTokenCount: 8, totalTokenCount: 20 } } : {}),
      modelVersion: "gemini-2.5-flash",
    },
  }));
  return { sse: frames };
}
