import pg from "pg";
import { afterAll } from "vitest";
import { DurableAgentRunner } from "../../src/runners/durable/durable-runner.js";
import { PostgresAgentRunner, type PostgresAgentRunnerOptions } from "../../src/runners/postgres.js";
import { PostgresStore } from "../../src/storage/postgres/postgres-store.js";
import { setLogger } from "../../src/logger.js";
import { defineDurableSuite } from "./durable-suite.js";
import { defineRunnerSuite } from "./runner-suite.js";
import { dropSchema, findPostgres, requirePostgres, uniqueSchema } from "./postgres-env.js";

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
}
