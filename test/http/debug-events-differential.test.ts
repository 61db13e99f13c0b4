/**
 * The /cpk-debug-events feed against @copilotkit/runtime 1.75's, for the same run and replay:
 * the same envelope shape, the same agent, thread and run ids on each frame, the same events.
 */
import { describe, expect, it } from "vitest";
import { createCopilotRuntimeHandler } from "../../src/http/handler.js";
import { CopilotRuntime } from "../../src/runtime.js";
import { setLogger } from "../../src/logger.js";
import { runInput } from "../helpers/inputs.js";
import { ScriptedAgent, helloScript } from "../helpers/agents.js";

process.env.COPILOTKIT_TELEMETRY_DISABLED = "true";
process.env.DO_NOT_TRACK = "1";
setLogger({ info: () => {}, warn: () => {}, error: () => {} });

type Handler = (request: Request) => Promise<Response> | Response;

/** Reads `data:` frames from a feed until `count` arrived. */
async function takeFrames(body: ReadableStream<Uint8Array>, count: number): Promise<any[]> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const frames: any[] = [];
  let buffer = "";
  const deadline = Date.now() + 15_000;
  while (frames.length < count) {
    if (Date.now() > deadline) throw new Error(`only ${frames.length} of ${count} frames`);
    const { done, value } = await Promise.race([
      reader.read(),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`only ${frames.length} of ${count} frames: ${frames.map((f) => f.event.type)}`)), deadline - Date.now())),
    ]);
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const data = buffer.slice(0, end).split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
      buffer = buffer.slice(end + 2);
      if (data) frames.push(JSON.parse(data));
    }
  }
  // Not awaited: 1.75's feed (a TransformStream with writes queued behind it) never settles a cancel.
  void reader.cancel().catch(() => {});
  return frames;
}

async function scenario(handler: Handler) {
  const url = (path: string) => `http://localhost/api/copilotkit${path}`;
  const post = async (path: string, body: unknown) => {
    const response = await handler(new Request(url(path), { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }));
    return response.text();
  };
  const feed = await handler(new Request(url("/cpk-debug-events")));
  expect(feed.status).toBe(200);
  expect(feed.headers.get("content-type")).toContain("text/event-stream");
  const reading = feed.body!;
  const run = await post("/agent/default/run", runInput({ threadId: "t-diff", runId: "r-diff", messages: [{ id: "u1", role: "user", content: "hi" }] }));
  const replay = await post("/agent/default/connect", runInput({ threadId: "t-diff", runId: "c-diff", messages: [] }));
  const count = (text: string) => text.split("\n").filter((l) => l.startsWith("data: ")).length;
  return takeFrames(reading, count(run) + count(replay));
}

describe("/cpk-debug-events matches @copilotkit/runtime 1.75", () => {
  it("for a run and a replay of it", async () => {
    const theirs = (await import("@copilotkit/runtime/v2")) as any;
    const theirRuntime = new theirs.CopilotRuntime({ agents: { default: new ScriptedAgent({ script: helloScript, delayMs: 0 }) }, debug: true });
    const theirFrames = await scenario(theirs.createCopilotRuntimeHandler({ runtime: theirRuntime, basePath: "/api/copilotkit" }));
    const ourRuntime = new CopilotRuntime({ agents: { default: new ScriptedAgent({ script: helloScript, delayMs: 0 }) }, debug: true });
    const ourFrames = await scenario(createCopilotRuntimeHandler({ runtime: ourRuntime, basePath: "/api/copilotkit" }));

    const shape = (frames: any[]) =>
      frames.map((f) => ({ keys: Object.keys(f).sort(), agentId: f.agentId, threadId: f.threadId, runId: f.runId, type: f.event.type, timestamp: typeof f.timestamp }));
    expect(theirFrames.length).toBeGreaterThan(4);
    expect(shape(ourFrames)).toEqual(shape(theirFrames));
    // The events themselves, less what each runtime adds of its own to RUN_STARTED's input echo.
    const strip = (frames: any[]) => frames.map(({ event: { input: _input, timestamp: _t, ...event } }) => event);
    expect(strip(ourFrames)).toEqual(strip(theirFrames));
  }, 60_000);
});
