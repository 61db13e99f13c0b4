import { describe, expect, it, vi } from "vitest";
import { Subject } from "rxjs";
import { createSseStream, encodeSseFrame } from "../../src/http/sse.js";
import { setEventId } from "../../src/events/event-ids.js";
import { setLogger } from "../../src/logger.js";
import type { AgentEvent } from "../../src/events/types.js";

setLogger({ info: () => {}, warn: () => {}, error: () => {} });
const decoder = new TextDecoder();

async function readChunk(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<string | undefined> {
  const { value, done } = await reader.read();
  return done ? undefined : decoder.decode(value);
}

describe("SSE writer", () => {
  it("frames each event as `data: <json>\\n\\n`, with an id line when the runner numbered it", () => {
    const plain = { type: "RUN_STARTED", threadId: "t", runId: "r" };
    expect(encodeSseFrame(plain)).toBe('data: {"type":"RUN_STARTED","threadId":"t","runId":"r"}\n\n');
    const numbered = { type: "RUN_FINISHED", threadId: "t", runId: "r" };
    setEventId(numbered, 42);
    expect(encodeSseFrame(numbered)).toBe('id: 42\ndata: {"type":"RUN_FINISHED","threadId":"t","runId":"r"}\n\n');
  });

  it("coalesces events that arrive between reads into one chunk, in order", async () => {
    const source = new Subject<AgentEvent>();
    const reader = createSseStream(source).getReader();
    for (let i = 0; i < 3; i++) source.next({ type: "CUSTOM", name: "n", value: i });
    const chunk = await readChunk(reader);
    expect(chunk).toBe(
      'data: {"type":"CUSTOM","name":"n","value":0}\n\ndata: {"type":"CUSTOM","name":"n","value":1}\n\ndata: {"type":"CUSTOM","name":"n","value":2}\n\n',
    );
    source.complete();
    expect(await readChunk(reader)).toBeUndefined();
  });

  it("sends a `: ping` comment when the stream is idle", async () => {
    vi.useFakeTimers();
    try {
      const source = new Subject<AgentEvent>();
      const reader = createSseStream(source, { heartbeatMs: 1000 }).getReader();
      const pending = readChunk(reader);
      await vi.advanceTimersByTimeAsync(1000);
      expect(await pending).toBe(": ping\n\n");
      source.complete();
    } finally {
      vi.useRealTimers();
    }
  });

  it("unsubscribes from the source when the client goes away", async () => {
    const source = new Subject<AgentEvent>();
    const abort = new AbortController();
    const onClose = vi.fn();
    const reader = createSseStream(source, { signal: abort.signal, onClose }).getReader();
    expect(source.observed).toBe(true);
    abort.abort();
    expect(source.observed).toBe(false);
    expect(onClose).toHaveBeenCalledTimes(1);
    expect(await readChunk(reader)).toBeUndefined();
  });

  it("unsubscribes when the reader cancels", async () => {
    const source = new Subject<AgentEvent>();
    const reader = createSseStream(source).getReader();
    await reader.cancel();
    expect(source.observed).toBe(false);
  });

  it("drops a reader that falls too far behind instead of buffering without bound", async () => {
    const source = new Subject<AgentEvent>();
    const stream = createSseStream(source, { maxBufferedBytes: 10_000 });
    const reader = stream.getReader();
    // Nobody reads while the agent produces far more than the limit.
    for (let i = 0; i < 1000; i++) source.next({ type: "TEXT_MESSAGE_CONTENT", messageId: "m", delta: "x".repeat(100) });
    expect(source.observed).toBe(false);
    let bytes = 0;
    for (let chunk = await readChunk(reader); chunk !== undefined; chunk = await readChunk(reader)) bytes += chunk.length;
    expect(bytes).toBeLessThan(20_000);
  });

  it("ends with RUN_ERROR when the source errors before a terminal event", async () => {
    const source = new Subject<AgentEvent>();
    const reader = createSseStream(source).getReader();
    source.next({ type: "RUN_STARTED", threadId: "t", runId: "r" });
    source.error(new Error("runner exploded: password=x"));
    let text = "";
    for (let chunk = await readChunk(reader); chunk !== undefined; chunk = await readChunk(reader)) text += chunk;
    expect(text).toContain('"type":"RUN_ERROR"');
    expect(text).not.toContain("password");
  });
});
