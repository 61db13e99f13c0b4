/**
 * Two platform instances on one PostgreSQL store, woken by the PostgreSQL LISTEN/NOTIFY bus.
 * CopilotKit's 1.75 runtime talks to instance A (REST and runner); the browser's sockets go to
 * instance B. The run still streams to B, B's stop reaches A's runner, and A's thread changes
 * reach B's thread list socket.
 */
import { type BaseEvent, verifyEvents } from "@ag-ui/client";
import { from, lastValueFrom, toArray } from "rxjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PostgresPlatformBus } from "../../src/intelligence/postgres-bus.js";
import { type ServedIntelligencePlatform, serveIntelligencePlatform } from "../../src/intelligence/platform.js";
import { PostgresIntelligenceStore } from "../../src/intelligence/store/postgres.js";
import { ScriptedAgent, longReply, textReply } from "../helpers/agents.js";
import { API_KEY, TOKEN_SECRET, copilotKitIntelligenceRuntime, eventually, followThread, quietLogger, runInput } from "../helpers/intelligence.js";
import { dropSchema, findPostgres, requirePostgres, uniqueSchema } from "../runners/postgres-env.js";

const verified = (events: unknown[]) => lastValueFrom(from(events as BaseEvent[]).pipe(verifyEvents(), toArray()));
const url = await findPostgres();

if (requirePostgres(url, "Intelligence platform: two instances on one PostgreSQL")) {
  describe("Intelligence platform: two instances on one PostgreSQL with the LISTEN/NOTIFY bus", () => {
    const schema = uniqueSchema();
    const instances: Array<{ served: ServedIntelligencePlatform; store: PostgresIntelligenceStore; bus: PostgresPlatformBus }> = [];
    let runtimeFetch: (request: Request) => Promise<Response>;
    const browser = async (method: string, path: string, body?: unknown) => {
      const response = await runtimeFetch(
        new Request(`http://runtime.test/api/copilotkit${path}`, { method, headers: { "content-type": "application/json", "x-user": "erin" }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) }),
      );
      const text = await response.text();
      return { status: response.status, json: text ? JSON.parse(text) : undefined, text };
    };

    beforeAll(async () => {
      for (let i = 0; i < 2; i++) {
        const store = new PostgresIntelligenceStore({ connectionString: url, schema, maxConnections: 4 });
        const bus = new PostgresPlatformBus({ connection: url, namespace: schema, logger: quietLogger() });
        const served = await serveIntelligencePlatform({ store, bus, apiKeys: [API_KEY], tokenSecret: TOKEN_SECRET, logger: quietLogger() });
        instances.push({ served, store, bus });
      }
      const v2: any = await import("@copilotkit/runtime/v2");
      const a = instances[0].served;
      runtimeFetch = await copilotKitIntelligenceRuntime({
        intelligence: new v2.CopilotKitIntelligence({ apiUrl: a.apiUrl, wsUrl: a.wsUrl, apiKey: API_KEY }),
        agents: { default: new ScriptedAgent({ script: textReply("Across instances") }), long: new ScriptedAgent({ script: longReply(400), delayMs: 5 }) },
        identifyUser: (request: Request) => ({ id: request.headers.get("x-user") ?? "erin", name: "Erin" }),
        generateThreadNames: false,
      });
    });
    afterAll(async () => {
      for (const { served, store, bus } of instances) {
        await served.close();
        await bus.close();
        await store.close();
      }
      await dropSchema(url, schema);
    });

    const clientUrlOfB = () => `${instances[1].served.wsUrl}/client`;

    it("a run ingested on A streams to a browser joined on B, exactly once, to RUN_FINISHED", async () => {
      const run = await browser("POST", "/agent/default/run", runInput("mi-thread", "mi-run", "hello"));
      expect(run.status, run.text).toBe(200);
      const live = followThread(clientUrlOfB(), run.json.joinToken, "thread:mi-thread", { stream_mode: "run", run_id: "mi-run" }, "websocket");
      await live.done;
      live.leave();
      expect(live.sequence[0]).toBe("RUN_STARTED");
      expect(live.sequence.at(-1)).toBe("RUN_FINISHED");
      expect(live.events.filter((e) => e.type === "TEXT_MESSAGE_CONTENT").map((e) => e.delta).join("")).toBe("Across instances");
      await verified(live.events);
    });

    it("stop_run on B reaches the runner on A", async () => {
      const run = await browser("POST", "/agent/long/run", runInput("mi-stop", "mi-stop-run", "go on"));
      expect(run.status, run.text).toBe(200);
      const live = followThread(clientUrlOfB(), run.json.joinToken, "thread:mi-stop", { stream_mode: "run", run_id: "mi-stop-run" });
      await eventually(() => expect(live.events.length).toBeGreaterThan(3));
      const reply = await new Promise((resolve) => live.channel.push("stop_run", { run_id: "mi-stop-run" }).receive("ok", () => resolve("ok")).receive("error", () => resolve("error")));
      expect(reply).toBe("ok");
      await live.done;
      live.leave();
      expect(live.sequence.at(-1)).toBe("RUN_FINISHED");
      expect(live.events.filter((e) => e.type === "TEXT_MESSAGE_CONTENT").length).toBeLessThan(400);
      await verified(live.events);
    });

    it("a rename through A reaches the user's thread list socket on B", async () => {
      const list = await browser("GET", "/threads?agentId=default");
      const subscribe = await browser("POST", "/threads/subscribe", {});
      const meta = followThread(clientUrlOfB(), subscribe.json.joinToken, `user_meta:${list.json.joinCode}`, {}, "websocket");
      const renamed = new Promise<any>((resolve) =>
        meta.channel.on("thread_metadata", (payload: any) => {
          if (payload.operation === "renamed") resolve(payload);
        }),
      );
      await meta.join;
      const patch = await browser("PATCH", "/threads/mi-thread", { agentId: "default", name: "Shared" });
      expect(patch.status, patch.text).toBe(200);
      expect((await renamed).thread).toMatchObject({ id: "mi-thread", name: "Shared" });
      meta.leave();
    });
  });
}
