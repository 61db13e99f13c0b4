import { describe, expect, it } from "vitest";
import { getEventId, parseEventId, setEventId } from "../../src/events/event-ids.js";
import { encodeSseFrame } from "../../src/http/sse.js";

describe("event ids", () => {
  it("numbers an event without changing what is serialised or cloned", () => {
    const event = { type: "TEXT_MESSAGE_CONTENT", messageId: "m", delta: "hi" };
    setEventId(event, 7);
    expect(getEventId(event)).toBe("7");
    expect(JSON.stringify(event)).toBe('{"type":"TEXT_MESSAGE_CONTENT","messageId":"m","delta":"hi"}');
    expect(Object.keys(event)).toEqual(["type", "messageId", "delta"]);
    expect(structuredClone(event)).toEqual({ type: "TEXT_MESSAGE_CONTENT", messageId: "m", delta: "hi" });
    expect(encodeSseFrame(event)).toBe('id: 7\ndata: {"type":"TEXT_MESSAGE_CONTENT","messageId":"m","delta":"hi"}\n\n');
  });

  it("numbers frozen events too", () => {
    const event = Object.freeze({ type: "RUN_FINISHED", threadId: "t", runId: "r" });
    setEventId(event, 3);
    expect(getEventId(event)).toBe("3");
  });

  it("reads only ids a runner could have issued", () => {
    expect(parseEventId("42")).toBe(42);
    expect(parseEventId(" 42 ")).toBe(42);
    expect(parseEventId(undefined)).toBe(0);
    expect(parseEventId("abc")).toBe(0);
    expect(parseEventId("-1")).toBe(0);
    expect(parseEventId("1e9")).toBe(0);
  });
});
