/**
 * `copilot-runtime serve --intelligence`, the built CLI in a child process, driven by CopilotKit's
 * unmodified 1.75 runtime (`new CopilotKitIntelligence({ apiUrl, wsUrl, apiKey })` pointed at the
 * CLI's port; its runner uses Phoenix long-poll on Node 20) and the real `phoenix` client as the
 * browser's realtime side.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { pathToFileURL } from "node:url";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BaseEvent, verifyEvents } from "@ag-ui/client";
import { from, lastValueFrom, toArray } from "rxjs";
import { WebSocket } from "ws";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { ScriptedAgent, textReply } from "../helpers/agents.js";
import { copilotKitIntelligenceRuntime, eventually, followThread, runInput } from "../helpers/intelligence.js";
import { killAllClis, runCliToExit, startCli, type RunningCli } from "./helpers/cli-process.js";

const API_KEY = "cpk-3_cli-test-secret-do-not-print";
const env = { COPILOT_INTELLIGENCE_API_KEYS: API_KEY, COPILOT_INTELLIGENCE_TOKEN_SECRET: "cli-test-token-secret", DATABASE_URL: "" };
const dir = mkdtempSync(join(tmpdir(), "cli-intelligence-"));

afterEach(() => killAllClis());
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** CopilotKit's 1.75 runtime in this process, in Intelligence mode against the CLI at `root`. */
async function copilotKitRuntimeAgainst(root: string) {
  const v2: any = await import("@copilotkit/runtime/v2");
  const intelligence = new v2.CopilotKitIntelligence({ apiUrl: root, wsUrl: root.replace(/^http/, "ws"), apiKey: API_KEY });
  const handle = await copilotKitIntelligenceRuntime({
    intelligence,
    agents: { default: new ScriptedAgent({ script: textReply("Served by the CLI's platform") }) },
    identifyUser: (request: Request) => ({ id: request.headers.get("x-user") ?? "alice", name: "Alice" }),
    generateThreadNames: false,
  });
  return async (method: string, path: string, body?: unknown) => {
    const response = await handle(
      new Request(`http://runtime.test/api/copilotkit${path}`, {
        method,
        headers: { "content-type": "application/json" },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      }),
    );
    const text = await response.text();
    return { status: response.status, text, json: text === "" ? undefined : JSON.parse(text) };
  };
}

/** A port nobody listens on right now (the config file must know the CLI's port before it starts). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function rootOf(cli: RunningCli): string {
  return new URL(cli.url).origin;
}

function exitOf(cli: RunningCli): Promise<number | null> {
  return new Promise((resolve) => {
    if (cli.child.exitCode !== null) resolve(cli.child.exitCode);
    else cli.child.on("exit", (code) => resolve(code));
  });
}

/** A runner-style WebSocket on `/runner` (the API key in the Phoenix auth subprotocol); resolves its close code. */
function openRunnerSocket(root: string): Promise<{ closed: Promise<number> }> {
  const token = Buffer.from(API_KEY).toString("base64").replace(/=+$/, "");
  const socket = new WebSocket(`${root.replace(/^http/, "ws")}/runner/websocket?vsn=2.0.0`, ["phoenix", `base64url.bearer.phx.${token}`]);
  const closed = new Promise<number>((resolve) => socket.on("close", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    socket.once("open", () => resolve({ closed }));
    socket.once("error", reject);
  });
}

describe("copilot-runtime serve --intelligence", () => {
  it("serves the platform beside the runtime: a CopilotKit 1.75 run streams through it to a phoenix.js subscriber; SIGTERM drains and exits 0; a restart on the same SQLite file still lists the thread", async () => {
    const cli = await startCli(["--intelligence", "--db", "threads.db", "--log-format", "json"], { env, cwd: dir });
    const root = rootOf(cli);
    // The start-up lines say what to configure, without the key's secret.
    // (printed right after the listening line)
    await eventually(() => expect(cli.output()).toContain(`new CopilotKitIntelligence({ apiUrl: "${root}", wsUrl: "${root.replace(/^http/, "ws")}", apiKey: "cpk-3_***" })`));
    expect(cli.rawOutput()).not.toContain("cli-test-secret-do-not-print");

    // Both on one port: the runtime under its base path, the platform at /api/threads..., and /readyz checks both.
    expect((await fetch(`${cli.url}/info`)).status).toBe(200);
    expect(await (await fetch(`${root}/readyz`)).json()).toEqual({ status: "ready" });
    const wrongKey = await fetch(`${root}/api/threads?userId=alice&agentId=default`, { headers: { authorization: "Bearer cpk-3_wrong" } });
    expect(wrongKey.status).toBe(401);
    expect(await wrongKey.json()).toMatchObject({ error: "unauthorized" });

    const browser = await copilotKitRuntimeAgainst(root);
    const run = await browser("POST", "/agent/default/run", runInput("cli-thread", "cli-run-1", "Hello platform"));
    expect(run.status, run.text).toBe(200);
    expect(run.json.realtime).toEqual({ clientUrl: `${root.replace(/^http/, "ws")}/client`, topic: "thread:cli-thread" });
    const live = followThread(run.json.realtime.clientUrl, run.json.joinToken, "thread:cli-thread", { stream_mode: "run", run_id: "cli-run-1" }, "websocket");
    await live.join;
    await live.done;
    live.leave();
    expect(live.sequence[0]).toBe("RUN_STARTED");
    expect(live.sequence.at(-1)).toBe("RUN_FINISHED");
    expect(live.events.filter((e) => e.type === "TEXT_MESSAGE_CONTENT").map((e) => e.delta).join("")).toBe("Served by the CLI's platform");
    await lastValueFrom(from(live.events as BaseEvent[]).pipe(verifyEvents(), toArray()));

    // SIGTERM: a connected runner socket is closed with 1012 (CopilotKit's runner reconnects without counting an error), exit 0.
    const runner = await openRunnerSocket(root);
    const exited = exitOf(cli);
    cli.child.kill("SIGTERM");
    expect(await runner.closed).toBe(1012);
    expect(await exited).toBe(0);
    await eventually(() => expect(cli.output()).toContain("intelligence: platform drained"));

    // Restarted alone (--intelligence-only) on the same file: the thread and its messages are still there.
    const again = await startCli(["--intelligence-only", "--db", "threads.db", "--log-format", "json"], { env, cwd: dir });
    const root2 = rootOf(again);
    expect(again.url).toBe(root2);
    expect(again.output()).toContain("runtime: off (--intelligence-only)");
    // No runtime on this port: its base path is not served; the probes are.
    expect((await fetch(`${root2}/api/copilotkit/info`)).status).toBe(404);
    expect((await fetch(`${root2}/readyz`)).status).toBe(200);
    const browser2 = await copilotKitRuntimeAgainst(root2);
    const listed = await browser2("GET", "/threads?agentId=default");
    expect(listed.status, listed.text).toBe(200);
    expect(listed.json.threads.map((thread: { id: string }) => thread.id)).toEqual(["cli-thread"]);
    expect(listed.json.threads[0]).toMatchObject({ agentId: "default", archived: false });
    const messages = await browser2("GET", "/threads/cli-thread/messages");
    expect(messages.json.messages.map((m: { id: string }) => m.id)).toEqual(["msg-cli-run-1", "reply-cli-run-1"]);
  }, 90_000);

  it("runs OUR runtime in Intelligence mode on its own platform from a config file (runtime.intelligence): the browser gets credentials and the run streams over the platform's socket", async () => {
    const port = await freePort();
    const root = `http://127.0.0.1:${port}`;
    const project = mkdtempSync(join(tmpdir(), "cli-intelligence-ours-"));
    try {
      const distIndex = pathToFileURL(join(import.meta.dirname, "../../dist/index.js")).href;
      writeFileSync(
        join(project, "copilot-runtime.config.mjs"),
        `import { CopilotKitIntelligence, DemoAgent } from ${JSON.stringify(distIndex)};
export default {
  agents: { default: new DemoAgent({ wordDelayMs: 1 }) },
  runtime: {
    intelligence: new CopilotKitIntelligence({ apiUrl: ${JSON.stringify(root)}, wsUrl: ${JSON.stringify(root.replace(/^http/, "ws"))}, apiKey: ${JSON.stringify(API_KEY)} }),
    identifyUser: (request) => ({ id: request.headers.get("x-user") ?? "alice", name: "Alice" }),
    generateThreadNames: false,
  },
};
`,
      );
      const cli = await startCli(["--intelligence", "--memory", "--port", String(port), "--log-format", "json"], { env, cwd: project });
      expect(cli.output()).toContain("the Intelligence platform (runtime.intelligence)");
      const info = await (await fetch(`${cli.url}/info`)).json();
      expect(info).toMatchObject({ mode: "intelligence", intelligence: { wsUrl: `${root.replace(/^http/, "ws")}/client` } });
      const run = await fetch(`${cli.url}/agent/default/run`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-user": "alice" },
        body: JSON.stringify(runInput("ours-thread", "ours-run-1", "Hello from our runtime")),
      });
      const credentials = await run.json();
      expect(run.status, JSON.stringify(credentials)).toBe(200);
      expect(credentials.realtime).toEqual({ clientUrl: `${root.replace(/^http/, "ws")}/client`, topic: "thread:ours-thread" });
      const live = followThread(credentials.realtime.clientUrl, credentials.joinToken, "thread:ours-thread", { stream_mode: "run", run_id: "ours-run-1" }, "websocket");
      await live.join;
      await live.done;
      live.leave();
      expect(live.sequence[0]).toBe("RUN_STARTED");
      expect(live.sequence.at(-1)).toBe("RUN_FINISHED");
      expect(live.sequence).toContain("TEXT_MESSAGE_CONTENT");
      await lastValueFrom(from(live.events as BaseEvent[]).pipe(verifyEvents(), toArray()));
      // Another user sees nothing of it.
      const bobs = await fetch(`${cli.url}/threads?agentId=default`, { headers: { "x-user": "bob" } });
      expect((await bobs.json()).threads).toEqual([]);
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  }, 90_000);

  it("intelligence.runtime: true runs OUR runtime on this process's platform in process: a run streams to the browser's socket, the thread is listed", async () => {
    const port = await freePort();
    const root = `http://127.0.0.1:${port}`;
    const project = mkdtempSync(join(tmpdir(), "cli-intelligence-inproc-"));
    try {
      const distIndex = pathToFileURL(join(import.meta.dirname, "../../dist/index.js")).href;
      writeFileSync(
        join(project, "copilot-runtime.config.mjs"),
        `import { DemoAgent } from ${JSON.stringify(distIndex)};
export default {
  agents: { default: new DemoAgent({ wordDelayMs: 1 }) },
  runtime: { identifyUser: (request) => ({ id: request.headers.get("x-user") ?? "alice", name: "Alice" }), generateThreadNames: false },
  intelligence: { runtime: true },
};
`,
      );
      const cli = await startCli(["--memory", "--port", String(port), "--log-format", "json"], { env, cwd: project });
      const wsRoot = root.replace(/^http/, "ws");
      expect(cli.output()).toContain(`in process (intelligence.runtime: true); browsers open ${wsRoot}/client`);
      expect(cli.output()).toContain("this process's Intelligence platform, in process");
      const info = await (await fetch(`${cli.url}/info`)).json();
      expect(info).toMatchObject({ mode: "intelligence", intelligence: { wsUrl: `${wsRoot}/client` }, runtimeEntitlements: { status: "ready" } });
      const run = await fetch(`${cli.url}/agent/default/run`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-user": "alice" },
        body: JSON.stringify(runInput("inproc-thread", "inproc-run-1", "Hello next door")),
      });
      const credentials = await run.json();
      expect(run.status, JSON.stringify(credentials)).toBe(200);
      expect(credentials.realtime).toEqual({ clientUrl: `${wsRoot}/client`, topic: "thread:inproc-thread" });
      const live = followThread(credentials.realtime.clientUrl, credentials.joinToken, "thread:inproc-thread", { stream_mode: "run", run_id: "inproc-run-1" }, "websocket");
      await live.join;
      await live.done;
      live.leave();
      expect(live.sequence[0]).toBe("RUN_STARTED");
      expect(live.sequence.at(-1)).toBe("RUN_FINISHED");
      await lastValueFrom(from(live.events as BaseEvent[]).pipe(verifyEvents(), toArray()));
      await eventually(async () => {
        const listed = await (await fetch(`${cli.url}/threads?agentId=default`, { headers: { "x-user": "alice" } })).json();
        expect(listed.threads.map((thread: { id: string }) => thread.id)).toEqual(["inproc-thread"]);
      });
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  }, 90_000);

  it("refuses to start without API keys (exit 2, saying which variable to set)", async () => {
    const result = await runCliToExit(["--intelligence", "--memory"], { env: { COPILOT_INTELLIGENCE_API_KEYS: "" }, cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--intelligence needs at least one API key: set COPILOT_INTELLIGENCE_API_KEYS=cpk-<projectId>_<secret>/);
  });
});
