/**
 * Process-level hardening: requests that once ended the whole server process (JSON nested
 * thousands of levels deep, an agent event JSON cannot carry, an error thrown from an agent's
 * timer) are answered, and the same process keeps serving afterwards.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { killAllClis, startCli, type RunningCli } from "./helpers/cli-process.js";
import { parseSse } from "../helpers/sse.js";

const DIST_INDEX = pathToFileURL(fileURLToPath(new URL("../../dist/index.js", import.meta.url))).href;
const DIST_CONFIG = pathToFileURL(fileURLToPath(new URL("../../dist/config.js", import.meta.url))).href;
const AG_UI_CLIENT = pathToFileURL(createRequire(import.meta.url).resolve("@ag-ui/client")).href;
const RXJS = pathToFileURL(createRequire(import.meta.url).resolve("rxjs")).href;
const dir = mkdtempSync(join(tmpdir(), "crash-proof-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(killAllClis);

const deep = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;

function runBody(threadId: string, extra = ""): string {
  return `{"threadId":"${threadId}","runId":"r-${threadId}","messages":[{"id":"u-${threadId}","role":"user","content":"hello"}],"tools":[],"context":[]${extra}}`;
}

async function post(url: string, body: string): Promise<Response> {
  return fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body });
}

async function expectStillServing(cli: RunningCli): Promise<void> {
  expect(cli.child.exitCode).toBeNull();
  const info = await fetch(`${cli.url}/info`);
  expect(info.status).toBe(200);
  const run = await post(`${cli.url}/agent/default/run`, runBody(`alive-${Math.random().toString(36).slice(2)}`));
  const events = parseSse(await run.text());
  expect(events.at(-1)?.type).toBe("RUN_FINISHED");
}

describe("one request never takes the server down", () => {
  it("answers JSON nested 5,000 levels deep with 400 on every route, and keeps serving", async () => {
    const cli = await startCli(["--memory"]);
    const payloads: Array<[string, string]> = [
      ["/agent/default/run", runBody("t1", `,"forwardedProps":${deep(5_000)}`)],
      ["/agent/default/run", runBody("t2", `,"tools":${deep(5_000)}`)],
      ["/agent/default/suggest", runBody("t3", `,"forwardedProps":${deep(5_000)}`)],
      ["/agent/default/connect", runBody("t4", `,"state":${deep(5_000)}`)],
      ["", `{"method":"agent/run","params":{"agentId":"default"},"body":${runBody("t5", `,"forwardedProps":${deep(5_000)}`)}}`],
      ["", `{"method":"agent/suggest","params":{"agentId":"default"},"body":${runBody("t6", `,"forwardedProps":${deep(5_000)}`)}}`],
    ];
    for (const [path, body] of payloads) {
      const response = await post(`${cli.url}${path}`, body);
      expect(response.status, path || "envelope").toBe(400);
      expect((await response.json()).error).toBe("json_too_deep");
    }
    await expectStillServing(cli);
  });

  it("survives an agent that emits an event JSON cannot carry, and one that throws from a timer", async () => {
    const config = join(dir, "bad-agents.config.mjs");
    writeFileSync(
      config,
      `import { DemoAgent } from ${JSON.stringify(DIST_INDEX)};
import { defineConfig } from ${JSON.stringify(DIST_CONFIG)};
import { AbstractAgent } from ${JSON.stringify(AG_UI_CLIENT)};
import { Observable } from ${JSON.stringify(RXJS)};

class BigIntAgent extends AbstractAgent {
  run(input) {
    return new Observable((subscriber) => {
      subscriber.next({ type: "RUN_STARTED", threadId: input.threadId, runId: input.runId });
      subscriber.next({ type: "CUSTOM", name: "count", value: 10n });
      subscriber.next({ type: "RUN_FINISHED", threadId: input.threadId, runId: input.runId });
      subscriber.complete();
    });
  }
}

class TimerThrowingAgent extends AbstractAgent {
  run(input) {
    return new Observable((subscriber) => {
      subscriber.next({ type: "RUN_STARTED", threadId: input.threadId, runId: input.runId });
      setTimeout(() => { throw new Error("agent bug thrown from a timer"); }, 5);
      setTimeout(() => {
        subscriber.next({ type: "RUN_FINISHED", threadId: input.threadId, runId: input.runId });
        subscriber.complete();
      }, 30);
    });
  }
}

export default defineConfig({ agents: { default: new DemoAgent(), bigint: new BigIntAgent(), timer: new TimerThrowingAgent() } });
`,
    );
    const cli = await startCli(["--memory", "--config", config]);
    const bigint = parseSse(await (await post(`${cli.url}/agent/bigint/run`, runBody("b1"))).text());
    expect(bigint.map((e) => e.type)).toEqual(["RUN_STARTED", "RUN_ERROR"]);
    expect(bigint[1].code).toBe("EVENT_NOT_SERIALIZABLE");
    await expectStillServing(cli);

    const timer = parseSse(await (await post(`${cli.url}/agent/timer/run`, runBody("tm1"))).text());
    expect(timer.at(-1)?.type).toBe("RUN_FINISHED");
    await expectStillServing(cli);
    expect(cli.output()).toContain("agent bug thrown from a timer");
    expect(cli.output()).toContain("the process keeps serving");
  });
});
