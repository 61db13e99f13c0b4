// A server process for bench/cluster.mjs: our runtime (../dist) on PostgresAgentRunner, with
// the bus chosen by BUS (notify: LISTEN/NOTIFY, redis: RedisLiveBus at REDIS_URL, nats: NatsLiveBus at NATS_URL, poll: none,
// followers poll every 100 ms). GET /__bench/stats answers { cpu, queries } (process CPU and
// the queries its pool ran). Agents: `paced` (PACED deltas, unique, DELAY_MS apart, after a
// START_MS pause so followers can attach) and `idle` (RUN_STARTED, then nothing until stopped).
// Prints "LISTENING <port>".
import { createServer } from "node:http";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { REPO_DIR, repoModule, requireFromRepo } from "./lib/paths.mjs";
import { IdleAgent } from "./lib/agents.mjs";

const dist = (name) => import(pathToFileURL(path.join(REPO_DIR, "dist", name)).href);
const { CopilotRuntime, setLogger } = await dist("index.js");
const { createCopilotNodeListener } = await dist("adapters/node.js");
const { PostgresAgentRunner } = await dist("postgres.js");
const { AbstractAgent } = await import(repoModule("@ag-ui/client"));
const { Observable } = requireFromRepo("rxjs");
const pg = requireFromRepo("pg");
setLogger({ info() {}, warn() {}, error() {} });

class PacedAgent extends AbstractAgent {
  run(input) {
    const total = Number(input.forwardedProps?.events ?? 300);
    const delayMs = Number(input.forwardedProps?.delayMs ?? 5);
    const startMs = Number(input.forwardedProps?.startMs ?? 500);
    return new Observable((subscriber) => {
      const messageId = `m-${input.runId}`;
      subscriber.next({ type: "RUN_STARTED", threadId: input.threadId, runId: input.runId });
      subscriber.next({ type: "TEXT_MESSAGE_START", messageId, role: "assistant" });
      let i = 0;
      let timer;
      const step = () => {
        if (i < total) {
          subscriber.next({ type: "TEXT_MESSAGE_CONTENT", messageId, delta: `#${i++};` });
          timer = setTimeout(step, delayMs);
          return;
        }
        subscriber.next({ type: "TEXT_MESSAGE_END", messageId });
        subscriber.next({ type: "RUN_FINISHED", threadId: input.threadId, runId: input.runId });
        subscriber.complete();
      };
      timer = setTimeout(step, startMs);
      return () => clearTimeout(timer);
    });
  }
}

const env = process.env;
const counter = { queries: 0 };
const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: 8 });
pool.on("connect", (client) => {
  const query = client.query.bind(client);
  client.query = (...args) => {
    counter.queries++;
    return query(...args);
  };
});
let liveBus;
if (env.BUS === "nats") {
  const { NatsLiveBus } = await dist("nats.js");
  liveBus = new NatsLiveBus({ servers: env.NATS_URL ?? "nats://127.0.0.1:4222", prefix: `bench.${env.SCHEMA}` });
} else if (env.BUS === "redis") {
  const { RedisLiveBus } = await dist("redis.js");
  liveBus = new RedisLiveBus({ url: env.REDIS_URL ?? "redis://127.0.0.1:6379", prefix: `bench:${env.SCHEMA}:` });
}
const runner = new PostgresAgentRunner({ pool, schema: env.SCHEMA, listenNotify: env.BUS === "notify", liveBus });
await runner.ready();
const runtime = new CopilotRuntime({ agents: { paced: new PacedAgent(), idle: new IdleAgent({ agentId: "idle" }) }, runner });
const listener = createCopilotNodeListener({ runtime, basePath: "/api/copilotkit" });
const server = createServer((req, res) => {
  if (req.url === "/__bench/stats") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ cpu: process.cpuUsage(), queries: counter.queries }));
    return;
  }
  listener(req, res);
});
server.listen(0, "127.0.0.1", () => process.stdout.write(`LISTENING ${server.address().port}\n`));
