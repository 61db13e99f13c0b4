import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { DurableAgentRunner } from "../../src/runners/durable/durable-runner.js";
import { PostgresAgentRunner, type PostgresAgentRunnerOptions } from "../../src/runners/postgres.js";
import { PostgresStore } from "../../src/storage/postgres/postgres-store.js";
import { setLogger } from "../../src/logger.js";
import { defineDurableSuite } from "./durable-suite.js";
import { defineRunnerSuite } from "./runner-suite.js";
import { AgentControl, ControlledAgent, eventsOf, httpClient, replyTexts, waitFor } from "./support.js";
import { dropSchema, findPostgres, requirePostgres, uniqueSchema } from "./postgres-env.js";
import { FrameReader, readSseFrames, types } from "../helpers/sse.js";
import { uid } from "../helpers/inputs.js";

setLogger({ info: () => {}, warn: () => {}, error: () => {} });

const url = await findPostgres();
if (requirePostgres(url, "PostgresAgentRunner")) {
  const schema = uniqueSchema();
  afterAll(() => dropSchema(url, schema));
  const create = async (options: Partial<PostgresAgentRunnerOptions> = {}) => {
    const runner = new PostgresAgentRunner({ connectionString: url, schema, maxConnections: 4, ...options });
    await runner.ready().catch(() => {}); // a test that expects a failure awaits ready() itself
    return runner;
  };
  defineRunnerSuite("PostgresAgentRunner", { numbered: true, create });
  defineDurableSuite("PostgresAgentRunner", {
    create,
    createOn: async (wrap, options = {}) => {
      const runner = new DurableAgentRunner(wrap(new PostgresStore({ connectionString: url, schema, maxConnections: 4 })), options);
      await runner.ready();
      return runner;
    },
    transientError: () => Object.assign(new Error("could not serialize access due to concurrent update"), { code: "40001" }),
    permanentError: () => Object.assign(new Error("index row size 3016 exceeds btree version 4 maximum 2704"), { code: "54000" }),
    exec: async (sql) => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(sql);
      } finally {
        await client.end();
      }
    },
    table: (prefix, name) => `"${schema}"."${prefix}${name}"`,
  });

  describe("PostgresAgentRunner: data PostgreSQL refuses never breaks a thread", () => {
    const made: PostgresAgentRunner[] = [];
    const open = async (options: Partial<PostgresAgentRunnerOptions> = {}) => {
      const runner = await create(options);
      made.push(runner);
      return runner;
    };
    afterEach(async () => {
      for (const runner of made.splice(0)) await runner.close();
    });
    const storeOf = (runner: PostgresAgentRunner) => (runner as unknown as { store: PostgresStore }).store;
    // Over the btree row limit (~2.7 KB) of the message index even compressed (random, so it does not shrink).
    const tooLong = randomBytes(3000).toString("base64");

    it("recovers a run that an older version left with message ids over the index limit", async () => {
      const alice = uid("alice");
      const thread = uid("thread");
      const store = storeOf(await open());
      const input = { threadId: thread, runId: "dead-run", messages: [{ id: tooLong, role: "user", content: "q" }] };
      await store.tryStartRun({
        threadId: thread,
        runId: "dead-run",
        agentId: "default",
        ownerId: alice,
        instanceId: "a-process-that-died",
        now: Date.now(),
        leaseExpiresAt: Date.now() - 1,
        inputMessageIds: [tooLong],
        describeInput: () => JSON.stringify(input),
      });
      const events = [
        { type: "RUN_STARTED", threadId: thread, runId: "dead-run", input },
        { type: "TEXT_MESSAGE_START", messageId: `nul\u0000${tooLong}`, role: "assistant" },
        { type: "TEXT_MESSAGE_CONTENT", messageId: `nul\u0000${tooLong}`, delta: "half" },
      ];
      await store.appendEvents("a-process-that-died", [
        { run: { threadId: thread, firstSeq: 1 }, rows: events.map((event, i) => ({ seq: i + 1, runId: "dead-run", type: event.type, data: JSON.stringify(event) })) },
      ]);

      const rescuer = await open({ sweepIntervalMs: 20, heartbeatMs: 10 });
      await waitFor(async () => !(await rescuer.isRunning({ threadId: thread })), "the run to be recovered");
      const client = httpClient(rescuer, { default: new ControlledAgent(new AgentControl(() => ["fine"])) });
      const replay = eventsOf(await readSseFrames(await client.connect(thread, { user: alice })));
      expect(types(replay)).toEqual(["RUN_STARTED", "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END", "RUN_ERROR"]);
      expect(replay[0].input.messages[0].id).toBe(tooLong);
      expect(replay.at(-1)).toMatchObject({ code: "INTERRUPTED" });
      const next = await client.run(thread, { user: alice });
      expect(next.status).toBe(200);
      expect(replyTexts(eventsOf(await readSseFrames(next)))).toEqual(["fine"]);
    });

    it("finishes a run whose agent names its message with an id the index cannot hold", async () => {
      const alice = uid("alice");
      const thread = uid("thread");
      const control = new AgentControl();
      const client = httpClient(await open(), { default: new ControlledAgent(control) });
      const stream = client.run(thread, { user: alice });
      const run = await control.nextRun();
      run.started();
      run.emit({ type: "TEXT_MESSAGE_START", messageId: tooLong, role: "assistant" });
      run.emit({ type: "TEXT_MESSAGE_CONTENT", messageId: tooLong, delta: "long-named" });
      run.emit({ type: "TEXT_MESSAGE_END", messageId: tooLong });
      run.finish();
      const frames = eventsOf(await readSseFrames(await stream));
      expect(frames.at(-1)!.type).toBe("RUN_FINISHED");
      expect(replyTexts(eventsOf(await readSseFrames(await client.connect(thread, { user: alice }))))).toEqual(["long-named"]);
    });

    it("reports a group commit refused for one run as that run's PERSISTENCE_FAILED, and the other run goes on", async () => {
      const alice = uid("alice");
      const [bad, good] = [uid("bad"), uid("good")];
      const control = new AgentControl();
      const client = httpClient(await open({ writeWindowMs: 20 }), { default: new ControlledAgent(control) });
      const badStream = new FrameReader(await client.run(bad, { user: alice }));
      const badRun = await control.nextRun();
      const goodStream = new FrameReader(await client.run(good, { user: alice }));
      const goodRun = await control.nextRun();
      badRun.started();
      goodRun.started();
      await badStream.take(1);
      await goodStream.take(1);
      // Both in one write: PostgreSQL text cannot hold NUL, so the statement fails as a whole.
      badRun.emit({ type: "ODD\u0000TYPE" });
      goodRun.textStart().text("unharmed");
      expect(eventsOf(await badStream.rest()).at(-1)).toMatchObject({ type: "RUN_ERROR", code: "PERSISTENCE_FAILED" });
      goodRun.textEnd().finish();
      expect(replyTexts(eventsOf(await goodStream.rest()))).toEqual(["unharmed"]);
      expect((await client.run(bad, { user: alice })).status).toBe(200);
    });

    it("classifies its errors: lost connections and races are transient, refused data is permanent", async () => {
      const store = storeOf(await open());
      const transient = ["40001", "40P01", "53300", "57P01", "08006", "08003", "55P03", "ECONNRESET", "ECONNREFUSED", "EPIPE"];
      for (const code of transient) expect(store.isTransient(Object.assign(new Error("x"), { code })), code).toBe(true);
      const permanent = ["54000", "22021", "22P05", "23505", "42P01", "XX000"];
      for (const code of permanent) expect(store.isTransient(Object.assign(new Error("x"), { code })), code).toBe(false);
      expect(store.isTransient(new Error("Connection terminated unexpectedly"))).toBe(true);
      expect(store.isTransient(new Error("timeout exceeded when trying to connect"))).toBe(true);
      expect(store.isTransient(new Error("something else"))).toBe(false);
      expect(store.isTransient(undefined)).toBe(false);

      // Real failures, as pg reports them.
      const refused = await store.tryStartRun({
        threadId: "t\u0000",
        runId: "r",
        agentId: "default",
        ownerId: "o",
        instanceId: "i",
        now: 0,
        leaseExpiresAt: 0,
        inputMessageIds: [],
        describeInput: () => "{}",
      }).catch((error: unknown) => error);
      expect(store.isTransient(refused)).toBe(false);
      const unreachable = new PostgresStore({ connectionString: "postgres://postgres@127.0.0.1:1/test" });
      const down = await unreachable.getThread("t").catch((error: unknown) => error);
      await unreachable.close();
      expect(down).toBeInstanceOf(Error);
      expect(unreachable.isTransient(down)).toBe(true);
    });
  });
}
