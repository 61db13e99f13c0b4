/**
 * Reading SSE bodies in tests: one parser for our streams and CopilotKit's, strict about the
 * framing a browser's EventSource relies on (`\n\n` between frames, no CR characters).
 *
 * @example
 * ```ts
 * const events = await readSse(await post("/agent/default/run", runInput()));
 * expect(types(events)).toEqual(["RUN_STARTED", ..., "RUN_FINISHED"]);
 * ```
 */

/** An AG-UI event as it crossed the wire. */
export type WireEvent = { type: string } & Record<string, any>;

/** One SSE frame: its event and, when the server sent one, its numeric `id:` line. */
export interface SseFrame {
  id?: number;
  event: WireEvent;
}

/** Splits a complete SSE body into frames; comment-only frames (`: ping`) are skipped. */
export function parseSseFrames(text: string): SseFrame[] {
  if (text.includes("\r")) throw new Error("SSE body contains CR characters");
  const frames: SseFrame[] = [];
  for (const frame of text.split("\n\n")) {
    let id: number | undefined;
    const data: string[] = [];
    for (const line of frame.split("\n")) {
      if (line.startsWith("id:")) id = Number(line.slice(3).trim());
      else if (line.startsWith("data:")) data.push(line.slice(line.startsWith("data: ") ? 6 : 5));
    }
    if (data.length > 0) frames.push({ id, event: JSON.parse(data.join("\n")) as WireEvent });
  }
  return frames;
}

/** The events of a complete SSE body. */
export function parseSse(text: string): WireEvent[] {
  return parseSseFrames(text).map((frame) => frame.event);
}

/** Reads a whole SSE response into its events. */
export async function readSse(response: Response): Promise<WireEvent[]> {
  return parseSse(await response.text());
}

/** The `type` of each event, for order assertions. */
export function types(events: ReadonlyArray<{ type: string }>): string[] {
  return events.map((event) => event.type);
}

/** Reads an SSE body frame by frame while it is still streaming. */
export class FrameReader {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();
  private buffer = "";
  private queue: SseFrame[] = [];
  readonly seen: SseFrame[] = [];
  done = false;
  constructor(response: Response) {
    this.reader = response.body!.getReader();
  }
  async next(): Promise<SseFrame | undefined> {
    while (this.queue.length === 0) {
      if (this.done) return undefined;
      const { value, done } = await this.reader.read();
      if (done) {
        this.done = true;
        break;
      }
      this.buffer += this.decoder.decode(value, { stream: true });
      const cut = this.buffer.lastIndexOf("\n\n");
      if (cut === -1) continue;
      this.queue.push(...parseSseFrames(this.buffer.slice(0, cut + 2)));
      this.buffer = this.buffer.slice(cut + 2);
    }
    const frame = this.queue.shift();
    if (frame) this.seen.push(frame);
    return frame;
  }
  /** Reads until `count` frames were seen in total. */
  async take(count: number): Promise<SseFrame[]> {
    while (this.seen.length < count) if ((await this.next()) === undefined) throw new Error(`stream ended after ${this.seen.length} frames`);
    return this.seen.slice(0, count);
  }
  async rest(): Promise<SseFrame[]> {
    while ((await this.next()) !== undefined);
    return this.seen;
  }
  async cancel(): Promise<void> {
    await this.reader.cancel().catch(() => {});
  }
}

/** Reads a whole SSE response into its frames (with `id:` lines). */
export async function readSseFrames(response: Response): Promise<SseFrame[]> {
  return parseSseFrames(await response.text());
}

/**
 * The events of a streaming SSE body, read on demand: a test can stop at a given event, act,
 * and read on.
 */
export class SseReader {
  private readonly frames: FrameReader;

  constructor(response: Response) {
    if (response.body === null) throw new Error("the response has no body");
    this.frames = new FrameReader(response);
  }

  /** Every event read so far. */
  get events(): WireEvent[] {
    return this.frames.seen.map((frame) => frame.event);
  }

  get done(): boolean {
    return this.frames.done;
  }

  /** Reads until an event matches (returns it) or the stream ends (throws). */
  async until(predicate: (event: WireEvent) => boolean, what = "the expected event"): Promise<WireEvent> {
    for (const frame of this.frames.seen) if (predicate(frame.event)) return frame.event;
    for (;;) {
      const frame = await this.frames.next();
      if (frame === undefined) throw new Error(`the stream ended before ${what}; got ${types(this.events).join(", ")}`);
      if (predicate(frame.event)) return frame.event;
    }
  }

  /** Reads to the end of the stream and returns every event. */
  async rest(): Promise<WireEvent[]> {
    await this.frames.rest();
    return this.events;
  }

  async cancel(): Promise<void> {
    await this.frames.cancel();
  }
}
