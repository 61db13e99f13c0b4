/**
 * `serve`'s probes and metrics, as a process: /healthz, /readyz and /metrics on the main port
 * (or /metrics on its own port), and a SIGTERM that flips /readyz to 503 while /healthz keeps
 * answering 200 and the open stream finishes, until the process exits.
 */
import { afterEach, describe, expect, it } from "vitest";
import { killAllClis, startCli } from "./helpers/cli-process.js";
import { parsePrometheusText } from "../observability/prom-text.js";
import { parseSse } from "../helpers/sse.js";

afterEach(() => killAllClis());

const root = (url: string) => new URL(url).origin;
const runBody = (threadId: string, content = "hello") =>
  JSON.stringify({ threadId, runId: `${threadId}-r`, messages: [{ id: `${threadId}-u`, role: "user", content }], tools: [], context: [] });

describe("copilot-runtime serve: health and metrics", () => {
  it("serves /healthz, /readyz and /metrics at the root of the main port by default", async () => {
    const cli = await startCli(["--memory"]);
    const origin = root(cli.url);
    expect(await (await fetch(`${origin}/healthz`)).json()).toEqual({ status: "ok" });
    expect(await (await fetch(`${origin}/readyz`)).json()).toEqual({ status: "ready" });
    const run = await fetch(`${cli.url}/agent/default/run`, { method: "POST", headers: { "content-type": "application/json" }, body: runBody("m1") });
    const events = parseSse(await run.text());
    const scraped = parsePrometheusText(await (await fetch(`${origin}/metrics`)).text());
    expect(scraped.value("copilot_runtime_http_requests_total", { route: "run", method: "POST", status: "200" })).toBe(1);
    expect(scraped.value("copilot_runtime_events_streamed_total", { route: "run" })).toBe(events.length);
    expect(cli.output()).toContain(`metrics ${origin}/metrics`);
  });

  it("--metrics-port moves /metrics to its own port; --no-metrics turns it off", async () => {
    const own = await startCli(["--memory", "--metrics-port", "0"]);
    const until = async () => {
      for (let i = 0; i < 100 && !/metrics: (http:\/\/\S+)\/metrics/.test(own.output()); i++) await new Promise((r) => setTimeout(r, 20));
      return /metrics: (http:\/\/\S+)\/metrics/.exec(own.output())![1];
    };
    const metricsOrigin = await until();
    expect(metricsOrigin).not.toBe(root(own.url));
    expect((await fetch(`${metricsOrigin}/metrics`)).status).toBe(200);
    expect((await fetch(`${metricsOrigin}/readyz`)).status).toBe(200);
    expect((await fetch(`${root(own.url)}/metrics`)).status).toBe(404);
    expect((await fetch(`${root(own.url)}/readyz`)).status).toBe(200);

    const off = await startCli(["--memory", "--no-metrics"]);
    expect((await fetch(`${root(off.url)}/metrics`)).status).toBe(404);
    expect((await fetch(`${root(off.url)}/healthz`)).status).toBe(200);
  });

  it("on SIGTERM: /readyz answers 503 first, /healthz 200 until exit, new work 503 shutting_down, the open stream finishes", async () => {
    const cli = await startCli(["--memory", "--shutdown-timeout", "4000"]);
    const origin = root(cli.url);
    const stream = await fetch(`${cli.url}/agent/default/run`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: runBody("long", "a long one, please"),
    });
    const reader = stream.body!.getReader();
    await reader.read();
    const exited = new Promise<number | null>((resolve) => cli.child.on("exit", (code) => resolve(code)));
    cli.child.kill("SIGTERM");
    for (let i = 0; i < 200 && !cli.output().includes("SIGTERM received"); i++) await new Promise((r) => setTimeout(r, 10));
    expect(cli.output()).toContain("SIGTERM received");

    const ready = await fetch(`${origin}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: "unready", reason: "shutting_down", message: expect.any(String) });
    const live = await fetch(`${origin}/healthz`);
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: "ok" });
    const refused = await fetch(`${cli.url}/agent/default/run`, { method: "POST", headers: { "content-type": "application/json" }, body: runBody("late") });
    expect(refused.status).toBe(503);
    expect(await refused.json()).toMatchObject({ error: "shutting_down" });
    expect((await fetch(`${origin}/metrics`)).status).toBe(200);

    let text = "";
    const decoder = new TextDecoder();
    for (let r = await reader.read(); !r.done; r = await reader.read()) text += decoder.decode(r.value);
    expect(parseSse(text).at(-1)).toMatchObject({ type: "RUN_FINISHED", threadId: "long" });
    // Still live (and unready) right up to the exit, which follows the stream's end.
    if (cli.child.exitCode === null) {
      const lastLive = await fetch(`${origin}/healthz`).catch(() => undefined);
      if (lastLive !== undefined) expect(lastLive.status).toBe(200);
    }
    expect(await exited).toBe(0);
  });
});

describe("metrics settings", () => {
  it("flags win over the config file; the default is on at the main port", async () => {
    const { parseArgs } = await import("../../src/cli/args.js");
    const { prepareServe } = await import("../../src/cli/startup.js");
    const { checkConfig } = await import("../../src/cli/config.js");
    const { mkdtempSync, writeFileSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    expect(parseArgs(["serve", "--metrics-port", "9464"], {}).metrics).toEqual({ enabled: true, port: 9464 });
    expect(parseArgs(["serve", "--no-metrics"], {}).metrics).toEqual({ enabled: false });
    expect(() => parseArgs(["serve", "--metrics-port", "x"], {})).toThrow(/port number/);
    await expect(checkConfig({ metrics: { port: -1 } }, "inline")).rejects.toThrow(/metrics.port must be a port number/);
    await expect(checkConfig({ metrics: { path: "/m" } }, "inline")).rejects.toThrow(/unknown option `metrics.path`/);
    const dir = mkdtempSync(join(tmpdir(), "serve-metrics-"));
    try {
      expect((await prepareServe(parseArgs(["serve"], {}), {}, dir)).metrics).toEqual({ enabled: true });
      writeFileSync(join(dir, "copilot-runtime.config.mjs"), "export default { metrics: { port: 9100 } };\n");
      expect((await prepareServe(parseArgs(["serve"], {}), {}, dir)).metrics).toEqual({ enabled: true, port: 9100 });
      expect((await prepareServe(parseArgs(["serve", "--no-metrics"], {}), {}, dir)).metrics).toEqual({ enabled: false });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
