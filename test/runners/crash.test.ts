/**
 * The crash test: a server in a child process is killed with SIGKILL in the middle of a
 * streaming run. A new process on the same database must serve `connect` with every event the
 * client got before the kill, the run closed as INTERRUPTED, and the thread must take a new run.
 * Runs against SQLite and (when reachable) PostgreSQL.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "tsup";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dropSchema, findPostgres, requirePostgres, uniqueSchema } from "./postgres-env.js";
import { type Frame, FrameReader, eventsOf, readFrames, replyTexts, runBody, uid } from "./support.js";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const SERVER = fileURLToPath(new URL("./fixtures/durable-server.mjs", import.meta.url));
// Inside the repository, so the child resolves dependencies from its node_modules.
const OUT_DIR = path.join(REPO, "node_modules", ".cache", "copilot-runtime-crash-test", `${process.pid}-${Date.now()}`);
const LEASE_MS = 800;

let runtimeDir: string;

beforeAll(async () => {
  // A private build of the current source: independent of dist/, which other builds may be rewriting.
  mkdirSync(OUT_DIR, { recursive: true });
  await build({
    config: false,
    entry: { index: path.join(REPO, "src/index.ts"), sqlite: path.join(REPO, "src/sqlite.ts"), postgres: path.join(REPO, "src/postgres.ts") },
    outDir: OUT_DIR,
    format: ["esm"],
    target: "node20",
    dts: false,
    sourcemap: false,
    clean: false,
    silent: true,
    splitting: true,
  });
  runtimeDir = OUT_DIR;
}, 120_000);
afterAll(() => rmSync(OUT_DIR, { recursive: true, force: true }));

interface ServerProcess {
  child: ChildProcess;
  url: string;
  exited: Promise<void>;
}

function startServer(env: Record<string, string>): Promise<ServerProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SERVER], {
      cwd: REPO,
      env: { ...process.env, ...env, RUNTIME_DIR: runtimeDir, LEASE_MS: String(LEASE_MS) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const exited = new Promise<void>((done) => child.once("exit", () => done()));
    let output = "";
    child.stderr!.on("data", (chunk) => (output += chunk));
    child.stdout!.on("data", (chunk) => {
      output += chunk;
      const match = /LISTENING (\d+)/.exec(output);
      if (match) resolve({ child, exited, url: `http://127.0.0.1:${match[1]}/api/copilotkit` });
    });
    child.once("exit", (code) => reject(new Error(`server exited (${code}) before listening:\n${output}`)));
  });
}

async function kill(server: ServerProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (server === undefined || server.child.exitCode !== null || server.child.signalCode !== null) return;
  server.child.kill(signal);
  await server.exited;
}

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });

function defineCrashTest(name: string, env: () => Record<string, string>): void {
  describe(`${name}: a server killed mid-run`, () => {
    const servers: ServerProcess[] = [];
    afterAll(async () => {
      for (const server of servers) await kill(server, "SIGKILL");
    });

    it("loses nothing it streamed, closes the run as INTERRUPTED, and the thread takes a new run", async () => {
      const thread = uid("crash");
      const first = await startServer(env());
      servers.push(first);
      const response = await post(`${first.url}/agent/default/run`, runBody(thread, { text: "tell me something long" }));
      expect(response.status).toBe(200);
      const reader = new FrameReader(response);
      const received: Frame[] = await reader.take(25);
      await kill(first, "SIGKILL");
      await reader.cancel();
      expect(received.map((f) => f.id)).toEqual(received.map((_, i) => i + 1));

      const second = await startServer(env());
      servers.push(second);
      // The dead process's lease lapses within LEASE_MS; connect follows the run until the new
      // process has closed it, then completes.
      const replay = await readFrames(await post(`${second.url}/agent/default/connect`, runBody(thread, { messages: [] })));
      const closing = replay.at(-1)!;
      expect(closing.event).toMatchObject({ type: "RUN_ERROR", code: "INTERRUPTED" });
      const receivedText = replyTexts(eventsOf(received))[0];
      const storedText = replyTexts(eventsOf(replay))[0];
      expect(storedText.startsWith(receivedText)).toBe(true);
      expect(eventsOf(replay)[0]).toMatchObject({ type: "RUN_STARTED", threadId: thread });
      expect(eventsOf(replay)[0].input.messages[0].content).toBe("tell me something long");

      // Resuming from the last event the client saw yields exactly what it missed: the text deltas
      // after it arrive merged (numbered with the last id they cover, as the README says), so the
      // first id is past lastSeen by as many deltas as the dead process stored after it.
      const lastSeen = received.at(-1)!.id!;
      const resumed = await readFrames(
        await post(`${second.url}/agent/default/connect`, runBody(thread, { messages: [] }), { "last-event-id": String(lastSeen) }),
      );
      expect(resumed[0].id).toBeGreaterThan(lastSeen);
      expect(resumed.every((f, i) => i === 0 || f.id! > resumed[i - 1].id!)).toBe(true);
      expect(resumed.at(-1)!.id).toBe(closing.id);
      expect(replyTexts([...eventsOf(received), ...eventsOf(resumed)])[0]).toBe(storedText);
      expect(resumed.at(-1)!.event).toMatchObject({ type: "RUN_ERROR", code: "INTERRUPTED" });

      const next = await readFrames(await post(`${second.url}/agent/default/run`, runBody(thread, { text: "hello again" })));
      expect(next.at(-1)!.event.type).toBe("RUN_FINISHED");
      expect(next[0].id).toBe(closing.id! + 1);
      expect(replyTexts(eventsOf(next))[0]).toContain("hello again");
      await kill(second, "SIGTERM");
    });
  });
}

const sqliteDir = mkdtempSync(path.join(tmpdir(), "copilot-runtime-crash-"));
afterAll(() => rmSync(sqliteDir, { recursive: true, force: true }));
defineCrashTest("SqliteAgentRunner", () => ({ DB_KIND: "sqlite", DB_PATH: path.join(sqliteDir, "threads.db") }));

const url = await findPostgres();
if (requirePostgres(url, "PostgresAgentRunner crash test")) {
  const schema = uniqueSchema();
  afterAll(() => dropSchema(url, schema));
  defineCrashTest("PostgresAgentRunner", () => ({ DB_KIND: "postgres", DATABASE_URL: url, DB_SCHEMA: schema }));
}
