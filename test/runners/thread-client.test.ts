/**
 * CopilotKit's own thread client (`@copilotkit/core` 1.75, the store behind `useThreads`)
 * against our server on a durable runner: it lists (with pages), renames, archives,
 * unarchives and deletes threads, and each user's client sees only that user's threads.
 */
import { ɵcreateThreadStore as createThreadStore } from "@copilotkit/core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setLogger } from "../../src/logger.js";
import { CopilotRuntime } from "../../src/runtime.js";
import { SqliteAgentRunner } from "../../src/runners/sqlite.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { AgentControl, ControlledAgent, waitFor } from "./support.js";
import { readSseFrames } from "../helpers/sse.js";
import { runBody, uid } from "../helpers/inputs.js";

setLogger({ info: () => {}, warn: () => {}, error: () => {} });
(globalThis as { window?: unknown }).window ??= globalThis;

type ThreadStore = ReturnType<typeof createThreadStore>;
interface ClientThread {
  id: string;
  name: string | null;
  archived?: boolean;
}

const dir = mkdtempSync(path.join(tmpdir(), "copilot-runtime-threads-"));
const runner = new SqliteAgentRunner({ path: path.join(dir, "threads.db") });
let server: TestServer;
const alice = uid("alice");
const bob = uid("bob");
const aliceThreads = [uid("a1"), uid("a2"), uid("a3")];
const bobThread = uid("b1");

beforeAll(async () => {
  const runtime = new CopilotRuntime({
    runner,
    agents: { default: new ControlledAgent(new AgentControl(() => ["ok"])) },
    identifyUser: (request) => ({ id: request.headers.get("x-user") ?? "nobody" }),
  });
  server = await startServer({ runtime });
  const run = async (threadId: string, user: string) =>
    readSseFrames(
      await fetch(`${server.runtimeUrl}/agent/default/run`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-user": user },
        body: JSON.stringify(runBody(threadId)),
      }),
    );
  for (const id of aliceThreads) await run(id, alice);
  await run(bobThread, bob);
});
afterAll(async () => {
  await server.close();
  await runner.close();
  rmSync(dir, { recursive: true, force: true });
});

function openStore(user: string, options: { limit?: number; includeArchived?: boolean } = {}): ThreadStore {
  const store = createThreadStore({ fetch: (input: RequestInfo | URL, init?: RequestInit) => fetch(input, init) });
  store.start();
  store.setContext({ runtimeUrl: server.runtimeUrl, agentId: "default", headers: { "x-user": user }, ...options });
  return store;
}

const listed = (store: ThreadStore) => (store.getState().threads as ClientThread[]).map((t) => t.id);

async function loaded(store: ThreadStore): Promise<void> {
  await waitFor(() => !store.getState().isLoading && store.getState().context !== null, "the thread list");
  expect(store.getState().error).toBeNull();
}

/** What a freshly loaded client sees: the server's truth, not the first store's optimistic state. */
async function serverView(user: string, options: { includeArchived?: boolean } = {}): Promise<ClientThread[]> {
  const store = openStore(user, options);
  try {
    await loaded(store);
    return store.getState().threads as ClientThread[];
  } finally {
    store.stop();
  }
}

describe("@copilotkit/core 1.75 thread client against a durable runner", () => {
  it("advertises the thread endpoints in /info", async () => {
    const info = await (await fetch(`${server.runtimeUrl}/info`)).json();
    expect(info.threadEndpoints).toMatchObject({ list: true, inspect: true, mutations: true });
  });

  it("lists the user's threads newest first, page by page", async () => {
    const store = openStore(alice, { limit: 2 });
    try {
      await waitFor(() => listed(store).length === 2, "the first page");
      expect(listed(store)).toEqual([aliceThreads[2], aliceThreads[1]]);
      expect(store.getState().nextCursor).toEqual(expect.any(String));
      store.fetchNextPage();
      await waitFor(() => listed(store).length === 3, "the second page");
      expect(listed(store)).toEqual([...aliceThreads].reverse());
      expect(store.getState().nextCursor).toBeNull();
    } finally {
      store.stop();
    }
  });

  it("renames, archives, unarchives and deletes through the client's own requests", async () => {
    const store = openStore(alice);
    try {
      await loaded(store);
      await store.renameThread(aliceThreads[0], "Holiday plans");
      expect((await serverView(alice)).find((t) => t.id === aliceThreads[0])).toMatchObject({ name: "Holiday plans" });

      await store.archiveThread(aliceThreads[1]);
      expect((await serverView(alice)).map((t) => t.id)).not.toContain(aliceThreads[1]);
      expect((await serverView(alice, { includeArchived: true })).find((t) => t.id === aliceThreads[1])).toMatchObject({ archived: true });

      await store.unarchiveThread(aliceThreads[1]);
      expect((await serverView(alice)).find((t) => t.id === aliceThreads[1])).toMatchObject({ archived: false });

      await store.deleteThread(aliceThreads[2]);
      expect((await serverView(alice, { includeArchived: true })).map((t) => t.id)).not.toContain(aliceThreads[2]);
      const gone = await fetch(`${server.runtimeUrl}/threads/${aliceThreads[2]}/messages`, { headers: { "x-user": alice } });
      expect(gone.status).toBe(404);
    } finally {
      store.stop();
    }
  });

  it("shows each user only their threads, and refuses changes to someone else's", async () => {
    const store = openStore(bob, { includeArchived: true });
    try {
      await loaded(store);
      expect(listed(store)).toEqual([bobThread]);
      await expect(store.renameThread(aliceThreads[0], "mine now")).rejects.toThrow(/404/);
      await expect(store.archiveThread(aliceThreads[0])).rejects.toThrow(/404/);
      await expect(store.deleteThread(aliceThreads[0])).rejects.toThrow(/404/);
    } finally {
      store.stop();
    }
    expect((await serverView(alice)).find((t) => t.id === aliceThreads[0])).toMatchObject({ name: "Holiday plans" });
  });
});
