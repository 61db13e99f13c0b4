/**
 * A bounded, seeded fuzzer over every route, the single-route envelope and all three runners:
 * valid requests mutated with what hostile clients send (JSON nested thousands of levels deep,
 * ids over the limit, NUL characters, lone surrogates, wrong types, truncated and garbage
 * bodies). The server must answer every one with a status under 500, within a few seconds, and
 * never end a stream with an internal failure; afterwards a normal run on a mutated thread
 * still works. The seed is printed on failure, so a failing case can be replayed.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { setLogger } from "../../src/logger.js";
import type { AgentRunner } from "../../src/runners/agent-runner.js";
import { InMemoryAgentRunner } from "../../src/runners/in-memory.js";
import { PostgresAgentRunner } from "../../src/runners/postgres.js";
import { SqliteAgentRunner } from "../../src/runners/sqlite.js";
import { TranscriptionService } from "../../src/transcription/index.js";
import { dropSchema, findPostgres, requirePostgres, uniqueSchema } from "../runners/postgres-env.js";
import { makeHandler } from "../helpers/handler.js";
import { parseSse } from "../helpers/sse.js";
import { ScriptedAgent, helloScript } from "../helpers/agents.js";

setLogger({ info: () => {}, warn: () => {}, error: () => {} });

const MUTATIONS_PER_RUNNER = Number(process.env.FUZZ_MUTATIONS ?? 1_200);
const SEED = Number(process.env.FUZZ_SEED ?? 20261203);
const REQUEST_TIMEOUT_MS = 10_000;
/** In-stream failures that mean the server, not the input, went wrong. */
const INTERNAL_RUN_ERRORS = new Set(["RUNNER_ERROR", "EVENT_NOT_SERIALIZABLE", "PERSISTENCE_FAILED", "LEASE_LOST", "INTERNAL_ERROR"]);

/** mulberry32: small, fast, seeded. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DEEP = "__DEEP__";
const deepText = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;

/** Values a hostile client puts where a well-behaved one puts something else. */
const NASTY: unknown[] = [
  DEEP,
  "x".repeat(3_000),
  "a\u0000b",
  "\u0000",
  "a\ud800b",
  "\udfff",
  "",
  " ",
  "😀".repeat(200),
  "../../etc/passwd",
  "'; DROP TABLE threads; --",
  "%00",
  0,
  -1,
  1e308,
  3.5,
  true,
  null,
  [],
  {},
  [null],
  { __proto__: { polluted: true } },
  { constructor: { prototype: { polluted: true } } },
  "RUN_FINISHED",
];

interface Call {
  method: string;
  path: string;
  /** A JSON value (serialised, with DEEP spliced) or raw text. */
  body?: unknown;
  raw?: string;
  contentType?: string;
}

let counter = 0;
function freshIds() {
  counter++;
  return { threadId: `fz-t-${counter % 40}`, runId: `fz-r-${counter}`, messageId: `fz-m-${counter}` };
}

function baseCalls(rand: () => number): Call[] {
  const { threadId, runId, messageId } = freshIds();
  const input = {
    threadId,
    runId,
    messages: [
      { id: messageId, role: "user", content: "hello", name: "alice" },
      { id: `${messageId}-a`, role: "assistant", content: "", toolCalls: [{ id: `${messageId}-c`, type: "function", function: { name: "f", arguments: "{}" } }] },
      { id: `${messageId}-t`, role: "tool", toolCallId: `${messageId}-c`, content: "result" },
    ],
    tools: [{ name: "f", description: "a tool", parameters: { type: "object", properties: {} } }],
    context: [{ description: "ctx", value: "v" }],
    state: { count: 1, nested: { list: [1, 2, 3] } },
    forwardedProps: { a: 1 },
  };
  const pick = <T,>(items: T[]) => items[Math.floor(rand() * items.length)];
  const agentId = rand() < 0.1 ? "missing" : "default";
  return [
    { method: "POST", path: `/agent/${agentId}/run`, body: input },
    { method: "POST", path: `/agent/${agentId}/connect`, body: { ...input, lastSeenEventId: pick(["1", "0", 5, "abc", undefined]) } },
    { method: "POST", path: `/agent/${agentId}/suggest`, body: input },
    { method: "POST", path: `/agent/${agentId}/stop/${threadId}`, body: { runId } },
    { method: "GET", path: "/info" },
    { method: "GET", path: `/threads?limit=${pick(["5", "0", "abc", "1000", "1"])}&cursor=${pick(["", "abc", "eyJvIjo1fQ", "%00"])}` },
    { method: "PATCH", path: `/threads/${threadId}`, body: { name: "renamed", archived: false } },
    { method: "POST", path: `/threads/${threadId}/archive` },
    { method: "GET", path: `/threads/${threadId}/messages` },
    { method: "GET", path: `/threads/${threadId}/events` },
    { method: "GET", path: `/threads/${threadId}/state` },
    { method: "DELETE", path: `/threads/${threadId}` },
    { method: "POST", path: "/transcribe", body: { audio: Buffer.from("RIFF....WAVE").toString("base64"), mimeType: "audio/wav" } },
    { method: "POST", path: "", body: { method: "agent/run", params: { agentId }, body: input } },
    { method: "POST", path: "", body: { method: "agent/connect", params: { agentId }, body: input } },
    { method: "POST", path: "", body: { method: "agent/stop", params: { agentId, threadId } } },
    { method: "POST", path: "", body: { method: "info" } },
    { method: "POST", path: "", body: { method: "transcribe", body: { audio: "AAAA", mimeType: "audio/wav" } } },
  ];
}

/** Every place in a JSON value, as a path of keys. */
function paths(value: unknown, prefix: Array<string | number> = [], out: Array<Array<string | number>> = []) {
  out.push(prefix);
  if (value !== null && typeof value === "object") {
    for (const [key, child] of Object.entries(value)) paths(child, [...prefix, Array.isArray(value) ? Number(key) : key], out);
  }
  return out;
}

function setAt(root: unknown, at: Array<string | number>, replacement: unknown, remove: boolean): unknown {
  if (at.length === 0) return replacement;
  const copy = structuredClone(root as object) as Record<string | number, unknown>;
  let node = copy as Record<string | number, unknown>;
  for (const key of at.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = at[at.length - 1];
  if (remove) delete node[last];
  else node[last] = replacement;
  return copy;
}

/** One mutated request from a valid one. */
function mutate(call: Call, rand: () => number): Call {
  const roll = rand();
  if (call.body === undefined || roll < 0.08) {
    // Path and method mutations.
    const nasty = ["%00", "x".repeat(400), "a%2Fb", "..", "%ED%A0%80", "%F0%9F%98%80", "%"][Math.floor(rand() * 7)];
    const segments = call.path.split("/");
    if (segments.length > 2) segments[1 + Math.floor(rand() * (segments.length - 1))] = nasty;
    const method = rand() < 0.2 ? ["GET", "PUT", "PATCH", "DELETE", "OPTIONS", "POST"][Math.floor(rand() * 6)] : call.method;
    return { ...call, method, path: segments.join("/") };
  }
  if (roll < 0.16) {
    const json = JSON.stringify(call.body);
    const raw = [json.slice(0, Math.floor(rand() * json.length)), "", "\u0000\u0001\u0002", "{".repeat(10_000), "[]", "null", '"str"', "1e999", json + "garbage"][
      Math.floor(rand() * 9)
    ];
    return { ...call, body: undefined, raw };
  }
  if (roll < 0.2) return { ...call, contentType: ["text/plain", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded", ""][Math.floor(rand() * 4)] };
  let body: unknown = call.body;
  const edits = roll < 0.3 ? 0 : 1 + Math.floor(rand() * 2); // some requests stay valid, so runs really happen
  for (let i = 0; i < edits; i++) {
    const all = paths(body);
    const at = all[Math.floor(rand() * all.length)];
    const remove = rand() < 0.15 && at.length > 0;
    body = setAt(body, at, NASTY[Math.floor(rand() * NASTY.length)], remove);
  }
  return { ...call, body };
}

function serialise(call: Call): string | undefined {
  if (call.raw !== undefined) return call.raw;
  if (call.body === undefined) return undefined;
  return JSON.stringify(call.body).replaceAll(JSON.stringify(DEEP), deepText(5_000));
}

interface Harness {
  name: string;
  create(): Promise<{ runner: AgentRunner; cleanup(): Promise<void> }>;
}

const tmp = mkdtempSync(path.join(tmpdir(), "fuzz-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

class EchoTranscription extends TranscriptionService {
  async transcribeFile(): Promise<string> {
    return "text";
  }
}

function defineFuzz(harness: Harness): void {
  it(`${harness.name}: ${MUTATIONS_PER_RUNNER} mutated requests, no 5xx, no hang, no internal stream failure (seed ${SEED})`, async () => {
    const { runner, cleanup } = await harness.create();
    try {
      const { handler, url, post } = makeHandler({
        runner,
        agents: { default: new ScriptedAgent({ script: helloScript, delayMs: 0 }) },
        transcriptionService: new EchoTranscription(),
        identifyUser: (request) => ({ id: request.headers.get("x-user") ?? "fuzzer" }),
      });
      const rand = prng(SEED);
      const failures: string[] = [];
      const statuses = new Map<number, number>();
      let streams = 0;
      for (let i = 0; i < MUTATIONS_PER_RUNNER && failures.length < 5; i++) {
        const bases = baseCalls(rand);
        const call = mutate(bases[Math.floor(rand() * bases.length)], rand);
        const body = call.method === "GET" || call.method === "HEAD" ? undefined : serialise(call);
        const headers: Record<string, string> = { "x-user": rand() < 0.1 ? "other-user" : "fuzzer" };
        const contentType = call.contentType ?? "application/json";
        if (contentType !== "") headers["content-type"] = contentType;
        const label = `#${i} ${call.method} ${call.path.slice(0, 80)} ${(body ?? "").slice(0, 160)}`;
        let request: Request;
        try {
          request = new Request(url(call.path), { method: call.method, headers, body });
        } catch {
          continue; // not a request a client could send (e.g. a malformed URL)
        }
        const outcome = await Promise.race([
          (async () => {
            const response = await handler(request);
            const text = await response.text();
            return { status: response.status, text, type: response.headers.get("content-type") ?? "" };
          })(),
          new Promise<"hang">((resolve) => setTimeout(resolve, REQUEST_TIMEOUT_MS, "hang").unref()),
        ]);
        if (outcome === "hang") {
          failures.push(`hang: ${label}`);
          continue;
        }
        statuses.set(outcome.status, (statuses.get(outcome.status) ?? 0) + 1);
        if (outcome.status >= 500) failures.push(`${outcome.status} ${outcome.text.slice(0, 200)}: ${label}`);
        if (outcome.type.startsWith("text/event-stream")) {
          streams++;
          for (const event of parseSse(outcome.text)) {
            if (event.type === "RUN_ERROR" && INTERNAL_RUN_ERRORS.has(event.code)) failures.push(`RUN_ERROR ${event.code}: ${label}`);
          }
        } else if (outcome.status >= 400) {
          let parsed: { error?: unknown; message?: unknown } | undefined;
          try {
            parsed = JSON.parse(outcome.text);
          } catch {
            parsed = undefined;
          }
          if (typeof parsed?.error !== "string" || typeof parsed?.message !== "string") {
            failures.push(`${outcome.status} without a JSON {error, message}: ${outcome.text.slice(0, 120)}: ${label}`);
          }
        }
      }
      expect(failures, `seed ${SEED}`).toEqual([]);
      // The fuzzer must reach the runner, not only the validators: many requests pass.
      const ok = [...statuses].filter(([status]) => status < 300).reduce((sum, [, n]) => sum + n, 0);
      console.log(`${harness.name}: ${JSON.stringify(Object.fromEntries(statuses))}, ${streams} event streams`);
      expect(ok).toBeGreaterThan(MUTATIONS_PER_RUNNER * 0.15);
      expect(streams).toBeGreaterThan(MUTATIONS_PER_RUNNER * 0.05);
      // The runner still works, including on threads the fuzzer touched.
      for (let t = 0; t < 40; t += 7) {
        const response = await post("/agent/default/run", {
          threadId: `fz-t-${t}`,
          runId: `after-${t}`,
          messages: [{ id: `after-m-${t}`, role: "user", content: "hi" }],
        }, { "x-user": "fuzzer" });
        expect([200, 404, 409]).toContain(response.status); // 404: another user's thread; 409: still busy
        if (response.status === 200) expect(parseSse(await response.text()).at(-1)?.type).toBe("RUN_FINISHED");
        else await response.text();
      }
    } finally {
      await cleanup();
    }
  }, 240_000);
}

describe("fuzzing every route", () => {
  defineFuzz({
    name: "InMemoryAgentRunner",
    create: async () => ({ runner: new InMemoryAgentRunner({ maxThreads: 20 }), cleanup: async () => {} }),
  });
  defineFuzz({
    name: "SqliteAgentRunner",
    create: async () => {
      const runner = new SqliteAgentRunner({ path: path.join(tmp, `fuzz-${Date.now()}.db`) });
      return { runner, cleanup: () => runner.close() };
    },
  });
});

const postgresUrl = await findPostgres();
if (requirePostgres(postgresUrl, "fuzzing every route on PostgreSQL")) {
  describe("fuzzing every route on PostgreSQL", () => {
    const schema = uniqueSchema();
    afterAll(() => dropSchema(postgresUrl, schema));
    defineFuzz({
      name: "PostgresAgentRunner",
      create: async () => {
        const runner = new PostgresAgentRunner({ connectionString: postgresUrl, schema, maxConnections: 4 });
        return { runner, cleanup: () => runner.close() };
      },
    });
  });
}
