import { describe, expect, it, vi } from "vitest";
import { Subject } from "rxjs";
import { FLUSH_AT_CHARS, MAX_COALESCE_MS, type SseSink, SseWriter, coalesceWindowMs, createSseStream, encodeSseFrame, setSseLoadProbe } from "../../src/http/sse.js";
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

describe("SSE writer under load", () => {
  /** A sink that takes every chunk at once and records when each came. */
  class RecordingSink implements SseSink {
    readonly writes: { at: number; chunk: string }[] = [];
    ended = false;
    write(chunk: string): boolean {
      this.writes.push({ at: Date.now(), chunk });
      return true;
    }
    end(chunk: string | undefined): void {
      if (chunk !== undefined) this.writes.push({ at: Date.now(), chunk });
      this.ended = true;
    }
  }

  /** One event every `gapMs` for `count` events, then the end; returns the sink's writes. */
  async function streamWithGaps(count: number, gapMs: number): Promise<RecordingSink> {
    const source = new Subject<AgentEvent>();
    const sink = new RecordingSink();
    new SseWriter(source, { heartbeatMs: 60_000 }).start(sink, true);
    for (let i = 0; i < count; i++) {
      source.next({ type: "CUSTOM", name: "n", value: i });
      await vi.advanceTimersByTimeAsync(gapMs);
    }
    source.complete();
    expect(sink.ended).toBe(true);
    return sink;
  }

  const framesIn = (sink: RecordingSink) => sink.writes.map((w) => w.chunk.split("\n\n").length - 1);

  it("writes each frame of a sparse stream at once when the process is idle", async () => {
    vi.useFakeTimers();
    setSseLoadProbe(() => 0);
    try {
      const sink = await streamWithGaps(20, 6);
      // 6 ms apart, past the 4 ms window: every event is its own write, none waits.
      expect(framesIn(sink)).toEqual(Array(20).fill(1));
    } finally {
      setSseLoadProbe(undefined);
      vi.useRealTimers();
    }
  });

  it("stretches the window while the process is saturated, so a stream writes far less often", async () => {
    vi.useFakeTimers();
    setSseLoadProbe(() => 0.9);
    try {
      const sink = await streamWithGaps(20, 6);
      // Every frame arrives, in order, in a few larger writes; the first still goes out at once.
      expect(sink.writes.map((w) => w.chunk).join("")).toBe(
        Array.from({ length: 20 }, (_, i) => `data: {"type":"CUSTOM","name":"n","value":${i}}\n\n`).join(""),
      );
      expect(framesIn(sink)[0]).toBe(1);
      expect(sink.writes.length).toBeLessThanOrEqual(5);
      // ... and no frame waits longer than the cap.
      for (let i = 1; i < sink.writes.length; i++) expect(sink.writes[i].at - sink.writes[i - 1].at).toBeLessThanOrEqual(MAX_COALESCE_MS);
    } finally {
      setSseLoadProbe(undefined);
      vi.useRealTimers();
    }
  });

  it("writes a large batch at once instead of holding it for the stretched window", async () => {
    vi.useFakeTimers();
    setSseLoadProbe(() => 1);
    try {
      const source = new Subject<AgentEvent>();
      const sink = new RecordingSink();
      new SseWriter(source, { heartbeatMs: 60_000 }).start(sink, true);
      const delta = "x".repeat(1_000);
      const frame = encodeSseFrame({ type: "TEXT_MESSAGE_CONTENT", messageId: "m", delta });
      source.next({ type: "TEXT_MESSAGE_CONTENT", messageId: "m", delta });
      await Promise.resolve();
      expect(sink.writes).toHaveLength(1); // the first frame, at once
      // Under the threshold the frames wait for the window...
      const belowThreshold = Math.floor((FLUSH_AT_CHARS - 1) / frame.length);
      for (let i = 0; i < belowThreshold; i++) source.next({ type: "TEXT_MESSAGE_CONTENT", messageId: "m", delta });
      await vi.advanceTimersByTimeAsync(1);
      expect(sink.writes).toHaveLength(1);
      // ... and the frame that reaches it sends them all, long before the window ends.
      source.next({ type: "TEXT_MESSAGE_CONTENT", messageId: "m", delta });
      await vi.advanceTimersByTimeAsync(0);
      expect(sink.writes).toHaveLength(2);
      expect(sink.writes[1].chunk).toBe(frame.repeat(belowThreshold + 1));
      expect(sink.writes[1].at - sink.writes[0].at).toBeLessThan(MAX_COALESCE_MS);
      source.complete();
      expect(sink.ended).toBe(true);
    } finally {
      setSseLoadProbe(undefined);
      vi.useRealTimers();
    }
  });

  it("scales the window with load, between the stream's own window and the cap", () => {
    const at = (load: number, coalesceMs = 4) => {
      setSseLoadProbe(() => load);
      try {
        return coalesceWindowMs(coalesceMs, 1_000);
      } finally {
        setSseLoadProbe(undefined);
      }
    };
    expect(at(0)).toBe(4);
    expect(at(0.5)).toBe(8);
    expect(at(0.9)).toBeCloseTo(40);
    expect(at(1)).toBe(MAX_COALESCE_MS);
    expect(at(Number.NaN)).toBe(4);
    // A stream that asked for a write per tick keeps it.
    expect(at(1, 0)).toBe(0);
    // Without a probe the window is the stream's own.
    expect(coalesceWindowMs(4, 1_000)).toBe(4);
  });
});
