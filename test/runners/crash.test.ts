/**
 * The crash test: a server in a child process is killed with SIGKILL in the middle of a
 * streaming run. A new process on the same database must serve `connect` with every event the
 * client got before the kill, the run closed as INTERRUPTED, and the thread must take a new run.
 * Runs against SQLite and (when reachable) PostgreSQL.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dropSchema, findPostgres, requirePostgres, uniqueSchema } from "./postgres-env.js";
import { type ServerProcess, buildRuntime, kill, post, startServer as startProcess } from "./server-process.js";
import { eventsOf, replyTexts } from "./support.js";
import { type SseFrame, FrameReader, readSseFrames } from "../helpers/sse.js";
import { runBody, uid } from "../helpers/inputs.js";

const LEASE_MS = 800;

let runtimeDir: string;
let removeBuild = () => {};

beforeAll(async () => {
  ({ runtimeDir, remove: removeBuild } = await buildRuntime("crash-test"));
}, 120_000);
afterAll(() => removeBuild());

// Words 40 ms apart: the test assumes the kill lands before a second event past the 25th the
// client read is stored, which 10 ms left to the scheduling of a loaded two-core machine.
const startServer = (env: Record<string, string>) => startProcess(runtimeDir, { ...env, LEASE_MS: String(LEASE_MS), WORD_DELAY_MS: "40" });

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
      const received: SseFrame[] = await reader.take(25);
      await kill(first, "SIGKILL");
      await reader.cancel();
      expect(received.map((f) => f.id)).toEqual(received.map((_, i) => i + 1));

      const second = await startServer(env());
      servers.push(second);
      // The dead process's lease lapses within LEASE_MS; connect follows the run until the new
      // process has closed it, then completes.
      const replay = await readSseFrames(await post(`${second.url}/agent/default/connect`, runBody(thread, { messages: [] })));
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
      const resumed = await readSseFrames(
        await post(`${second.url}/agent/default/connect`, runBody(thread, { messages: [] }), { "last-event-id": String(lastSeen) }),
      );
      expect(resumed[0].id).toBeGreaterThan(lastSeen);
      expect(resumed.every((f, i) => i === 0 || f.id! > resumed[i - 1].id!)).toBe(true);
      expect(resumed.at(-1)!.id).toBe(closing.id);
      expect(replyTexts([...eventsOf(received), ...eventsOf(resumed)])[0]).toBe(storedText);
      expect(resumed.at(-1)!.event).toMatchObject({ type: "RUN_ERROR", code: "INTERRUPTED" });

      const next = await readSseFrames(await post(`${second.url}/agent/default/run`, runBody(thread, { text: "hello again" })));
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
