/**
 * The thread list of `@copilotkit/core` 1.75 (the store behind React's `useThreads`) against
 * our `/threads` endpoints: listed newest first, renamed, archived, unarchived and deleted
 * through the client's own requests.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CopilotKitCore, ɵcreateThreadStore } from "@copilotkit/core";
import { CopilotRuntime } from "../../src/runtime.js";
import { InMemoryAgentRunner } from "../../src/runners/in-memory.js";
import { ScriptedAgent, echoReply } from "../helpers/agents.js";
import { startServer, type TestServer } from "../helpers/server.js";
import type { CoreClient } from "./clients.js";
import { installBrowserGlobals, waitUntil } from "./support.js";

installBrowserGlobals();

interface ListedThread {
  id: string;
  name: string | null;
  archived?: boolean;
}

describe("@copilotkit/core 1.75 thread list", () => {
  let server: TestServer;
  let core: CoreClient;

  beforeAll(async () => {
    const runtime = new CopilotRuntime({
      runner: new InMemoryAgentRunner(),
      agents: { default: new ScriptedAgent({ script: echoReply(), delayMs: 1 }) },
    });
    server = await startServer({ runtime });
    core = new CopilotKitCore({ runtimeUrl: server.runtimeUrl }) as unknown as CoreClient;
    await waitUntil(() => core.runtimeConnectionStatus === "connected", "/info");
    expect((core as unknown as { threadEndpoints?: unknown }).threadEndpoints).toMatchObject({ list: true });
    // Two conversations, the second one newer.
    for (const threadId of ["older", "newer"]) {
      const agent = core.getAgent("default")!;
      agent.threadId = threadId;
      await core.connectAgent({ agent });
      agent.addMessage({ id: `${threadId}-u`, role: "user", content: `about ${threadId}` });
      await core.runAgent({ agent });
    }
  });
  afterAll(() => server.close());

  /** A store as the React hook sets it up, and a way to read its list once it has loaded. */
  function openList(includeArchived = false) {
    const store = ɵcreateThreadStore({ fetch: (input: RequestInfo | URL, init?: RequestInit) => fetch(input, init) });
    store.start();
    store.setContext({ runtimeUrl: server.runtimeUrl, agentId: "default", headers: {}, includeArchived });
    const load = async (): Promise<ListedThread[]> => {
      await waitUntil(() => !store.getState().isLoading, "the thread list");
      expect(store.getState().error).toBeNull();
      return store.getState().threads as ListedThread[];
    };
    return { store, load };
  }

  it("lists the threads with runs, newest first", async () => {
    const { store, load } = openList();
    expect((await load()).map((t) => t.id)).toEqual(["newer", "older"]);
    store.stop();
  });

  it("rename, archive, unarchive and delete go through and show on the next load", async () => {
    const { store, load } = openList();
    await load();

    await store.renameThread("older", "Groceries");
    store.refresh();
    expect((await load()).find((t) => t.id === "older")?.name).toBe("Groceries");

    await store.archiveThread("newer");
    store.refresh();
    expect((await load()).map((t) => t.id)).toEqual(["older"]);

    const withArchived = openList(true);
    expect((await withArchived.load()).find((t) => t.id === "newer")).toMatchObject({ archived: true });
    await withArchived.store.unarchiveThread("newer");
    withArchived.store.stop();
    store.refresh();
    expect((await load()).map((t) => t.id).sort()).toEqual(["newer", "older"]);

    await store.deleteThread("older");
    store.refresh();
    expect((await load()).map((t) => t.id)).toEqual(["newer"]);
    store.stop();

    // A deleted thread opens empty.
    const agent = core.getAgent("default")!;
    agent.threadId = "older";
    await core.connectAgent({ agent });
    expect(agent.messages).toEqual([]);
  });
});
