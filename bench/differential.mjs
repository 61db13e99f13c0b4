// `npm run differential`: the same scenarios against our runtime (../dist) and
// @copilotkit/runtime 1.75.0's v2 runtime, each in its own server process with the same agents
// (lib/agents.mjs). Prints, per scenario, the HTTP status and the event type sequences side by
// side, then every difference: statuses, bodies, types, and event fields with ids and
// timestamps aside (their presence still counts). Exit code 0 either way: the differences are
// for the README, where each is either fixed or listed as deliberate.
import { fork } from "node:child_process";
import http from "node:http";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { BENCH_DIR } from "./lib/paths.mjs";
import { postSse, runInput } from "./lib/sse-client.mjs";

const env = { ...process.env, COPILOTKIT_TELEMETRY_DISABLED: "true", DO_NOT_TRACK: "1", NODE_ENV: "production" };
const BASE = "/api/copilotkit";
const only = process.argv.includes("--only") ? process.argv[process.argv.indexOf("--only") + 1].split(",") : undefined;
const verbose = process.argv.includes("--verbose"); // print long sequences too

async function startServer(impl) {
  const child = fork(path.join(BENCH_DIR, "server.mjs"), [impl], { env, stdio: ["ignore", "ignore", "pipe", "ipc"] });
  let stderr = "";
  child.stderr.on("data", (c) => (stderr += c));
  const port = await new Promise((resolve, reject) => {
    child.once("message", (m) => resolve(m.port));
    child.once("exit", (code) => reject(new Error(`${impl} server exited (${code}): ${stderr}`)));
  });
  return { impl, port, child, logs: () => stderr };
}

// Both runtimes get the same thread ids (they run in separate processes), so messages that
// name a thread compare equal.
const runTag = randomUUID().slice(0, 8);
let scenarioName = "";
const tid = (name = "t") => `diff-${runTag}-${scenarioName.replace(/[^a-z]+/gi, "-")}-${name}`;

// ---- HTTP helpers ----
function request(server, method, route, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
    const req = http.request(
      { host: "127.0.0.1", port: server.port, method, path: `${BASE}${route}`, headers: { ...(payload ? { "content-type": "application/json" } : {}), ...headers } },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c) => (text += c));
        res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: parseMaybe(text) }));
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

function parseMaybe(text) {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

async function stream(server, route, body, opts = {}) {
  const r = await postSse(`http://127.0.0.1:${server.port}${BASE}${route}`, body, { keepEvents: true, ...opts });
  return { status: r.status, contentType: r.headers?.["content-type"], events: r.events ?? [], body: r.text ? parseMaybe(r.text) : undefined };
}

// ---- scenarios: each returns a record of named observations ----
const scenarios = {
  async "run"(s) {
    const threadId = tid();
    return { run: await stream(s, "/agent/short/run", runInput(threadId)) };
  },

  async "stop mid-run"(s) {
    const threadId = tid();
    let stopResponse;
    const run = stream(s, "/agent/slow/run", runInput(threadId, { events: 50, delayMs: 20 }), {
      onEvent: (event, state) => {
        if (state.count === 4) stopResponse = request(s, "POST", `/agent/slow/stop/${threadId}`);
      },
    });
    const result = await run;
    const stop = await stopResponse;
    const after = await request(s, "POST", `/agent/slow/stop/${threadId}`);
    return { run: result, stop, "stop again (nothing running)": after };
  },

  async "connect after run"(s) {
    const threadId = tid();
    await stream(s, "/agent/short/run", runInput(threadId));
    await stream(s, "/agent/short/run", runInput(threadId));
    const connect = await stream(s, "/agent/short/connect", { ...runInput(threadId), messages: [] });
    const unknownThread = await stream(s, "/agent/short/connect", { ...runInput(tid("unknown")), messages: [] });
    return { "connect (2 finished runs)": connect, "connect (unknown thread)": unknownThread };
  },

  async "connect during a run, thread with earlier runs"(s) {
    const threadId = tid();
    await stream(s, "/agent/slow/run", runInput(threadId, { events: 3, delayMs: 1 }));
    await stream(s, "/agent/slow/run", runInput(threadId, { events: 3, delayMs: 1 }));
    let connected;
    const live = stream(s, "/agent/slow/run", runInput(threadId, { events: 12, delayMs: 25 }), {
      onEvent: (event, state) => {
        if (state.count === 5) connected = stream(s, "/agent/slow/connect", { ...runInput(threadId), messages: [] });
      },
    });
    const run = await live;
    const connect = await connected;
    return { "third run": run, "connect during it": connect, "events replayed twice by connect": { body: duplicatesIn(connect.events) } };
  },

  async "second run on a busy thread"(s) {
    const threadId = tid();
    let second;
    const first = stream(s, "/agent/slow/run", runInput(threadId, { events: 10, delayMs: 20 }), {
      onEvent: (event, state) => {
        if (state.count === 2) second = stream(s, "/agent/slow/run", runInput(threadId, { events: 2, delayMs: 1 }));
      },
    });
    const a = await first;
    return { "first run": a, "second run while busy": await second };
  },

  async "connect through another agent"(s) {
    const threadId = tid();
    await stream(s, "/agent/short/run", runInput(threadId));
    return {
      "connect via /agent/firehose": await stream(s, "/agent/firehose/connect", { ...runInput(threadId), messages: [] }),
      "stop via /agent/firehose (nothing running)": await request(s, "POST", `/agent/firehose/stop/${threadId}`),
    };
  },

  async "unknown agent"(s) {
    const threadId = tid();
    return {
      run: await request(s, "POST", "/agent/nope/run", runInput(threadId)),
      connect: await request(s, "POST", "/agent/nope/connect", runInput(threadId)),
      stop: await request(s, "POST", `/agent/nope/stop/${threadId}`),
    };
  },

  async "bad body"(s) {
    return {
      "not a RunAgentInput": await request(s, "POST", "/agent/short/run", { foo: 1 }),
      "malformed JSON": await request(s, "POST", "/agent/short/run", "{not json"),
      "empty body": await request(s, "POST", "/agent/short/run", ""),
      "connect, not a RunAgentInput": await request(s, "POST", "/agent/short/connect", { threadId: 5 }),
    };
  },

  async "other routes"(s) {
    return {
      "GET /info": await request(s, "GET", "/info"),
      "GET /unknown": await request(s, "GET", "/unknown"),
      "GET /agent/short/run (wrong method)": await request(s, "GET", "/agent/short/run"),
      "OPTIONS preflight": await request(s, "OPTIONS", "/agent/short/run", undefined, {
        origin: "http://app.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type,x-custom",
      }),
    };
  },
};

/** Events that a connect stream carries more than once (same type and same ids). */
function duplicatesIn(events) {
  const seen = new Set();
  const dup = [];
  for (const e of events) {
    if (e.type === "TEXT_MESSAGE_CONTENT" || e.type === "TOOL_CALL_ARGS") continue; // deltas may repeat legitimately
    const key = `${e.type}:${e.messageId ?? ""}:${e.toolCallId ?? ""}:${e.runId ?? ""}`;
    if (seen.has(key)) dup.push(key.split(":")[0]);
    seen.add(key);
  }
  return dup;
}

// ---- comparison ----
const ID_KEYS = /(^id$|Id$)/;
const TIME_KEYS = new Set(["timestamp", "createdAt", "updatedAt"]);
function normalize(value) {
  if (Array.isArray(value)) return value.map(normalize);
  if (value === null || typeof value !== "object") return value;
  const out = {};
  for (const [key, v] of Object.entries(value)) {
    if (ID_KEYS.test(key) && typeof v === "string") out[key] = "<id>";
    else if (TIME_KEYS.has(key)) out[key] = "<time>";
    else if (key === "version") out[key] = "<version>";
    else out[key] = normalize(v);
  }
  return out;
}

function fieldDiffs(a, b, where = "") {
  const out = [];
  if (typeof a !== typeof b || Array.isArray(a) !== Array.isArray(b) || a === null || b === null || typeof a !== "object") {
    if (JSON.stringify(a) !== JSON.stringify(b)) out.push(`${where || "value"}: ours ${short(a)} / theirs ${short(b)}`);
    return out;
  }
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) {
    const p = where ? `${where}.${key}` : key;
    if (!(key in a)) out.push(`${p}: only theirs (${short(b[key])})`);
    else if (!(key in b)) out.push(`${p}: only ours (${short(a[key])})`);
    else out.push(...fieldDiffs(a[key], b[key], p));
  }
  return out;
}

const short = (v) => {
  const s = JSON.stringify(v);
  return s === undefined ? "undefined" : s.length > 120 ? `${s.slice(0, 117)}...` : s;
};

/** Longest common subsequence alignment of two type lists. */
function align(a, b) {
  const n = a.length;
  const m = b.length;
  const dp = Array.from({ length: n + 1 }, () => new Uint16Array(m + 1));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) dp[i][j] = a[i] === b[j] ? dp[i + 1][j + 1] + 1 : Math.max(dp[i + 1][j], dp[i][j + 1]);
  const pairs = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) pairs.push([i++, j++]);
    else if (j >= m || (i < n && dp[i + 1][j] >= dp[i][j + 1])) pairs.push([i++, undefined]);
    else pairs.push([undefined, j++]);
  }
  return pairs;
}

/** Runs of the same type collapse to `TYPE xN` so long streams stay readable. */
function collapse(types) {
  const out = [];
  for (const t of types) {
    const last = out[out.length - 1];
    if (last && last.type === t) last.n++;
    else out.push({ type: t, n: 1 });
  }
  return out.map((x) => (x.n > 1 ? `${x.type} x${x.n}` : x.type));
}

function compareObservation(name, ours, theirs) {
  const lines = [];
  const diffs = [];
  if (ours.status !== theirs.status) diffs.push(`status: ours ${ours.status} / theirs ${theirs.status}`);
  if (ours.events !== undefined || theirs.events !== undefined) {
    const a = ours.events ?? [];
    const b = theirs.events ?? [];
    const ca = collapse(a.map((e) => e.type));
    const cb = collapse(b.map((e) => e.type));
    const width = Math.max(24, ...ca.map((t) => t.length));
    lines.push(`    ${"ours".padEnd(width)} | theirs`);
    for (const [i, j] of align(ca, cb)) lines.push(`    ${(i === undefined ? "-" : ca[i]).padEnd(width)} | ${j === undefined ? "-" : cb[j]}`);
    for (const [i, j] of align(a.map((e) => e.type), b.map((e) => e.type))) {
      if (i === undefined) diffs.push(`event only theirs: ${short(normalize(b[j]))}`);
      else if (j === undefined) diffs.push(`event only ours: ${short(normalize(a[i]))}`);
      else for (const d of fieldDiffs(normalize(a[i]), normalize(b[j]))) diffs.push(`${a[i].type} #${i}: ${d}`);
    }
  }
  if (ours.body !== undefined || theirs.body !== undefined) {
    for (const d of fieldDiffs(normalize(ours.body), normalize(theirs.body), "body")) diffs.push(d);
  }
  if (ours.headers && theirs.headers) {
    for (const h of ["allow", "access-control-allow-origin", "access-control-allow-headers", "access-control-allow-methods", "content-type"]) {
      if (ours.headers[h] !== theirs.headers[h]) diffs.push(`header ${h}: ours ${short(ours.headers[h])} / theirs ${short(theirs.headers[h])}`);
    }
  }
  return { lines, diffs: collapseDiffs(diffs) };
}

/** The same field difference on many events of one type is reported once with a count. */
function collapseDiffs(diffs) {
  const counts = new Map();
  for (const d of diffs) {
    const key = d.replace(/ #\d+:/, ":");
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([d, n]) => (n > 1 ? `${d}  (x${n})` : d));
}

// ---- main ----
const servers = { ours: await startServer("ours"), theirs: await startServer("theirs") };
let total = 0;
try {
  for (const [name, scenario] of Object.entries(scenarios)) {
    if (only && !only.includes(name)) continue;
    scenarioName = name;
    const [ours, theirs] = [await scenario(servers.ours), await scenario(servers.theirs)];
    console.log(`\n=== ${name} ===`);
    for (const key of Object.keys({ ...ours, ...theirs })) {
      const a = ours[key] ?? {};
      const b = theirs[key] ?? {};
      const { lines, diffs } = compareObservation(key, a, b);
      console.log(`  -- ${key}: status ours ${a.status ?? "-"} / theirs ${b.status ?? "-"}`);
      if (lines.length > 0 && (verbose || lines.length < 40 || diffs.length > 0)) for (const l of lines) console.log(l);
      if (diffs.length === 0) console.log("    no difference");
      for (const d of diffs) console.log(`    DIFF ${d}`);
      total += diffs.length;
    }
  }
  console.log(`\n${total} difference(s).`);
} finally {
  for (const s of Object.values(servers)) s.child.kill();
}
