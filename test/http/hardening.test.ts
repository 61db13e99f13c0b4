import { describe, expect, it } from "vitest";
import { InMemoryAgentRunner } from "../../src/runners/in-memory.js";
import { TranscriptionService } from "../../src/transcription/index.js";
import { setLogger } from "../../src/logger.js";
import { jsonTextDepth, valueDepth } from "../../src/events/input-limits.js";
import { makeHandler } from "../helpers/handler.js";
import { readSse, types } from "../helpers/sse.js";
import { runInput } from "../helpers/inputs.js";
import { ScriptedAgent, helloScript, longScript } from "../helpers/agents.js";

const errors: unknown[][] = [];
setLogger({ info: () => {}, warn: () => {}, error: (...args: unknown[]) => void errors.push(args) });

/** `[[[...]]]` nested `depth` levels deep. */
function nested(depth: number): unknown {
  let value: unknown = [];
  for (let i = 1; i < depth; i++) value = [value];
  return value;
}

/** The same as JSON text, built without JSON.stringify (which overflows past a few thousand levels). */
function nestedText(depth: number): string {
  return `${"[".repeat(depth)}${"]".repeat(depth)}`;
}

/** A run body with `deep` (raw JSON text) spliced in at `field`. */
function bodyWith(field: string, deepText: string): string {
  const marker = '"__DEEP__"';
  const base = runInput({ [field]: "__DEEP__" }) as Record<string, unknown>;
  return JSON.stringify(base).replace(marker, deepText);
}

describe("JSON depth is checked before anything walks the body", () => {
  it("measures depth on the text, skipping brackets inside strings", () => {
    expect(jsonTextDepth('{"a":[1,{"b":"[[[[["}]}')).toBe(3);
    expect(jsonTextDepth('"\\"[[["')).toBe(0);
    // Escaped quotes and backslashes: a string ends at the first quote after an even run of backslashes.
    expect(jsonTextDepth(String.raw`{"a":"x\\"}`)).toBe(1);
    expect(jsonTextDepth(String.raw`{"a":"x\\\"]"}`)).toBe(1);
    expect(jsonTextDepth(String.raw`["a\\",["b"]]`)).toBe(2);
    expect(jsonTextDepth(String.raw`["\"[[[[", [[["x"]]]]`)).toBe(4);
    expect(jsonTextDepth(nestedText(100_000), 64)).toBe(65); // stops early
    expect(valueDepth({ a: [1, { b: "[[[" }] })).toBe(3);
    expect(valueDepth(nested(10_000), 64)).toBe(65);
  });

  for (const field of ["forwardedProps", "state", "tools", "context"]) {
    it(`answers /run with 400 json_too_deep for ${field} nested 5,000 levels (the process-killing request)`, async () => {
      const { post } = makeHandler();
      const response = await post("/agent/default/run", bodyWith(field, nestedText(5_000)));
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: "json_too_deep", limit: 64 });
    });
  }

  it("refuses deep message content on /run, /connect and /suggest, and in the envelope", async () => {
    const { post } = makeHandler();
    const deepMessages = `[{"id":"u1","role":"user","content":${nestedText(5_000)}}]`;
    const body = bodyWith("messages", deepMessages);
    for (const path of ["/agent/default/run", "/agent/default/connect", "/agent/default/suggest"]) {
      const response = await post(path, body);
      expect(response.status, path).toBe(400);
      expect((await response.json()).error, path).toBe("json_too_deep");
    }
    for (const method of ["agent/run", "agent/connect", "agent/suggest"]) {
      const envelope = `{"method":"${method}","params":{"agentId":"default"},"body":${body}}`;
      const response = await post("", envelope);
      expect(response.status, method).toBe(400);
      expect((await response.json()).error, method).toBe("json_too_deep");
    }
  });

  it("refuses deep bodies on the thread and stop routes", async () => {
    const { post, handler, url } = makeHandler();
    const stop = await post("/agent/default/stop/t1", `{"runId":${nestedText(5_000)}}`);
    expect(stop.status).toBe(400);
    const patch = await handler(
      new Request(url("/threads/t1"), { method: "PATCH", headers: { "content-type": "application/json" }, body: `{"name":${nestedText(5_000)}}` }),
    );
    expect(patch.status).toBe(400);
    expect((await patch.json()).error).toBe("json_too_deep");
  });

  it("accepts a body exactly at the limit and honours a configured limit", async () => {
    const { post } = makeHandler({}, { limits: { maxJsonDepth: 8 } });
    // The run input object is level 1, forwardedProps' value adds its own levels.
    const atLimit = await post("/agent/default/run", bodyWith("forwardedProps", JSON.stringify(nested(7))));
    expect(atLimit.status).toBe(200);
    expect(types(await readSse(atLimit))).toContain("RUN_FINISHED");
    const over = await post("/agent/default/run", bodyWith("forwardedProps", JSON.stringify(nested(8))));
    expect(over.status).toBe(400);
    expect(await over.json()).toMatchObject({ error: "json_too_deep", limit: 8 });
  });

  it("refuses limits that are not positive integers when the handler is created", () => {
    expect(() => makeHandler({}, { limits: { maxJsonDepth: 0 } })).toThrow(/maxJsonDepth/);
    expect(() => makeHandler({}, { limits: { maxIdLength: 1.5 } })).toThrow(/maxIdLength/);
  });
});

describe("an event JSON cannot carry ends its stream, never the process", () => {
  it("turns an unserialisable event into RUN_ERROR EVENT_NOT_SERIALIZABLE and keeps serving", async () => {
    const cyclic: { type: string } & Record<string, unknown> = { type: "STATE_SNAPSHOT" };
    cyclic.snapshot = { self: cyclic };
    const agent = new ScriptedAgent({ script: (input) => [
      { type: "RUN_STARTED", threadId: input.threadId, runId: input.runId },
      cyclic,
      { type: "RUN_FINISHED", threadId: input.threadId, runId: input.runId },
    ], delayMs: 0 });
    const { post } = makeHandler({ agents: { default: agent, hello: new ScriptedAgent({ script: helloScript, delayMs: 0 }) } });
    errors.length = 0;
    const response = await post("/agent/default/run", runInput({ threadId: "cyclic" }));
    const events = await readSse(response);
    expect(types(events)).toEqual(["RUN_STARTED", "RUN_ERROR"]);
    expect(events[1]).toMatchObject({ code: "EVENT_NOT_SERIALIZABLE" });
    expect(errors.some(([fields, message]) => String(message).includes("STATE_SNAPSHOT could not be serialised") && (fields as { err?: unknown }).err instanceof Error)).toBe(true);
    const next = await post("/agent/hello/run", runInput({ threadId: "after" }));
    expect(types(await readSse(next))).toContain("RUN_FINISHED");
  });

  it("survives deep input when the depth limit is raised past what JSON.stringify can walk", async () => {
    const { post } = makeHandler({}, { limits: { maxJsonDepth: 1_000_000 } });
    const response = await post("/agent/default/run", bodyWith("forwardedProps", nestedText(20_000)));
    expect(response.status).toBe(200);
    const events = await readSse(response);
    expect(types(events).at(-1)).toBe("RUN_ERROR");
    const next = await post("/agent/default/run", runInput({ threadId: "next" }));
    expect(types(await readSse(next))).toContain("RUN_FINISHED");
  });
});

describe("ids and names every store can keep", () => {
  const cases: Array<[string, (bad: string) => Record<string, unknown>]> = [
    ["threadId", (bad) => runInput({ threadId: bad })],
    ["runId", (bad) => runInput({ runId: bad })],
    ["parentRunId", (bad) => runInput({ parentRunId: bad })],
    ["messages[0].id", (bad) => runInput({ messages: [{ id: bad, role: "user", content: "hi" }] })],
    ["messages[0].toolCallId", (bad) => runInput({ messages: [{ id: "t", role: "tool", toolCallId: bad, content: "x" }] })],
    [
      "messages[0].toolCalls[0].id",
      (bad) => runInput({ messages: [{ id: "a", role: "assistant", toolCalls: [{ id: bad, type: "function", function: { name: "f", arguments: "{}" } }] }] }),
    ],
    ["tools[0].name", (bad) => runInput({ tools: [{ name: bad, description: "", parameters: {} }] })],
  ];
  const bads: Array<[string, string, RegExp]> = [
    ["an id over the limit", "x".repeat(3_000), /at most/],
    ["a NUL character", "a\u0000b", /NUL/],
    ["a lone surrogate", "a\ud800b", /surrogate/],
  ];

  for (const [field, build] of cases) {
    for (const [what, bad, problem] of bads) {
      if (field === "tools[0].name" && what === "an id over the limit") continue; // names have their own limit
      it(`answers 400 Invalid request body for ${field} with ${what}`, async () => {
        const { post, runtime } = makeHandler();
        const response = await post("/agent/default/run", build(bad));
        expect(response.status).toBe(400);
        const body = await response.json();
        expect(body.error).toBe("Invalid request body");
        expect(body.details).toContain(field);
        expect(body.details).toMatch(problem);
        expect(await runtime.runner.isRunning({ threadId: "thread-1" })).toBe(false);
      });
    }
  }

  it("refuses a tool name over maxNameLength", async () => {
    const { post } = makeHandler({}, { limits: { maxNameLength: 10 } });
    const response = await post("/agent/default/run", runInput({ tools: [{ name: "x".repeat(11), description: "" }] }));
    expect(response.status).toBe(400);
    expect((await response.json()).details).toMatch(/tools\[0\]\.name must be at most 10/);
  });

  it("accepts ids at the limit, in any script, with emoji (well-formed surrogate pairs)", async () => {
    const { post } = makeHandler();
    const id = `線程-😀-${"x".repeat(240)}`;
    expect(id.length).toBeLessThanOrEqual(256);
    const response = await post("/agent/default/run", runInput({ threadId: id, messages: [{ id, role: "user", content: "hi\u0000 there \ud800" }] }));
    expect(response.status).toBe(200);
    expect(types(await readSse(response))).toContain("RUN_FINISHED");
  });

  it("answers 400 invalid_parameter for path ids with NUL, lone surrogates or over the limit, on every route", async () => {
    const { post, handler, url } = makeHandler();
    const paths = (id: string) => [
      ["POST", `/agent/default/stop/${id}`],
      ["GET", `/threads/${id}/messages`],
      ["GET", `/threads/${id}/events`],
      ["GET", `/threads/${id}/state`],
      ["POST", `/threads/${id}/archive`],
      ["DELETE", `/threads/${id}`],
    ];
    // (A lone surrogate cannot arrive in a path: its percent-encoding is not UTF-8, and the path does not match.)
    for (const id of ["a%00b", "x".repeat(300)]) {
      for (const [method, path] of paths(id)) {
        const response = await handler(new Request(url(path), { method }));
        expect(response.status, `${method} ${path.slice(0, 40)}`).toBe(400);
        expect((await response.json()).error).toBe("invalid_parameter");
      }
    }
    const agent = await post(`/agent/${"a".repeat(300)}/run`, runInput());
    expect(agent.status).toBe(400);
    // Through the envelope the parameters are JSON strings: a lone surrogate arrives intact.
    const envelope = await post("", { method: "agent/stop", params: { agentId: "default", threadId: "t\ud800" } });
    expect(envelope.status).toBe(400);
    expect(await envelope.json()).toMatchObject({ error: "invalid_parameter", parameter: "threadId" });
  });

  it("refuses a thread name with NUL or a lone surrogate", async () => {
    const { handler, url } = makeHandler();
    for (const name of ["a\u0000", "b\udc00"]) {
      const response = await handler(
        new Request(url("/threads/t1"), { method: "PATCH", headers: { "content-type": "application/json" }, body: JSON.stringify({ name }) }),
      );
      expect(response.status).toBe(400);
      expect((await response.json()).error).toBe("invalid_name");
    }
  });
});

describe("identifyUser guards every route that does work", () => {
  class CountingTranscription extends TranscriptionService {
    calls = 0;
    async transcribeFile(): Promise<string> {
      this.calls++;
      return "text";
    }
  }

  function guarded() {
    const agent = new ScriptedAgent({ script: helloScript, delayMs: 0 });
    const transcription = new CountingTranscription();
    const handlerParts = makeHandler({
      agents: { default: agent },
      transcriptionService: transcription,
      identifyUser: (request) => ({ id: request.headers.get("x-user") ?? "" }), // "" is no user: 401
    });
    return { ...handlerParts, agent, transcription };
  }

  const audio = { audio: Buffer.from("RIFF0000WAVEfmt ").toString("base64"), mimeType: "audio/wav" };

  it("answers 401 on /suggest and /transcribe without a user, and runs nothing", async () => {
    const { post, handler, url, agent, transcription } = guarded();
    const suggest = await post("/agent/default/suggest", runInput());
    expect(suggest.status).toBe(401);
    expect((await suggest.json()).error).toBe("unauthenticated");
    const transcribe = await handler(
      new Request(url("/transcribe"), { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(audio) }),
    );
    expect(transcribe.status).toBe(401);
    expect(agent.recorder.runs).toHaveLength(0);
    expect(transcription.calls).toBe(0);
  });

  it("answers 401 through the envelope for every method that does work", async () => {
    const { post, agent, transcription } = guarded();
    const calls: Array<[string, Record<string, string>, unknown]> = [
      ["agent/run", { agentId: "default" }, runInput()],
      ["agent/connect", { agentId: "default" }, runInput()],
      ["agent/suggest", { agentId: "default" }, runInput()],
      ["agent/stop", { agentId: "default", threadId: "t" }, undefined],
      ["transcribe", {}, audio],
    ];
    for (const [method, params, body] of calls) {
      const response = await post("", { method, params, body });
      expect(response.status, method).toBe(401);
    }
    expect(agent.recorder.runs).toHaveLength(0);
    expect(transcription.calls).toBe(0);
  });

  it("still serves an identified caller", async () => {
    const { post, handler, url, transcription } = guarded();
    const suggest = await post("/agent/default/suggest", runInput(), { "x-user": "alice" });
    expect(types(await readSse(suggest))).toContain("RUN_FINISHED");
    const transcribe = await handler(
      new Request(url("/transcribe"), {
        method: "POST",
        headers: { "content-type": "application/json", "x-user": "alice" },
        body: JSON.stringify(audio),
      }),
    );
    expect(transcribe.status).toBe(200);
    expect(transcription.calls).toBe(1);
  });
});

describe("the in-memory runner never evicts a thread whose run is starting", () => {
  it("keeps a new run reachable when every other thread is running", async () => {
    const runner = new InMemoryAgentRunner({ maxThreads: 2 });
    const { post } = makeHandler({
      runner,
      agents: { default: new ScriptedAgent({ script: longScript(400), delayMs: 5 }) },
      identifyUser: (request) => ({ id: request.headers.get("x-user") ?? "alice" }),
    });
    const streams = [];
    for (const threadId of ["busy-1", "busy-2"]) {
      const response = await post("/agent/default/run", runInput({ threadId }));
      expect(response.status).toBe(200);
      streams.push(response);
    }
    const third = await post("/agent/default/run", runInput({ threadId: "new-one" }));
    expect(third.status).toBe(200);
    expect(await runner.isRunning({ threadId: "new-one" })).toBe(true);
    // A second run on the same id, from another user, must not take the thread over.
    const intruder = await post("/agent/default/run", runInput({ threadId: "new-one" }), { "x-user": "mallory" });
    expect(intruder.status).toBe(404);
    const again = await post("/agent/default/run", runInput({ threadId: "new-one" }));
    expect(again.status).toBe(409);
    const stop = await post("/agent/default/stop/new-one", {});
    expect((await stop.json()).stopped).toBe(true);
    const ended = await readSse(third);
    expect(types(ended).at(-1)).toBe("RUN_FINISHED");
    for (const threadId of ["busy-1", "busy-2"]) await post(`/agent/default/stop/${threadId}`, {});
    await Promise.all(streams.map((s) => s.text()));
  });
});

describe("runner refusals map to the client's answer", () => {
  it("answers 400 when a runner refuses the input with InvalidRunInputError, and 503 with Retry-After when its store is unavailable", async () => {
    const { InvalidRunInputError, StoreUnavailableError } = await import("../../src/runners/agent-runner.js");
    let refusal: Error = new InvalidRunInputError("ownerId", "must not contain NUL characters");
    const runner = new InMemoryAgentRunner();
    runner.run = () => {
      throw refusal;
    };
    const { post } = makeHandler({ runner });
    const invalid = await post("/agent/default/run", runInput());
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toMatchObject({ error: "Invalid request body", details: "ownerId must not contain NUL characters" });
    refusal = new StoreUnavailableError(new Error("connect ECONNREFUSED 10.0.0.5:5432"));
    const unavailable = await post("/agent/default/run", runInput());
    expect(unavailable.status).toBe(503);
    expect(unavailable.headers.get("retry-after")).toBe("1");
    const body = await unavailable.json();
    expect(body).toMatchObject({ error: "store_unavailable", retryable: true });
    expect(JSON.stringify(body)).not.toContain("10.0.0.5"); // the cause is logged, never sent
  });
});
