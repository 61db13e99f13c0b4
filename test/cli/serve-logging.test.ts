/**
 * `serve`'s logs: pino-compatible JSON lines on stdout (every line parses, with pino's numeric
 * level, time, pid, hostname and msg), an access line per request and run lines carrying the
 * request id, the flags and config keys, and the pretty formatter used on a terminal.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseArgs } from "../../src/cli/args.js";
import { createCliLogger, formatPretty } from "../../src/cli/log-output.js";
import { prepareServe } from "../../src/cli/startup.js";
import { killAllClis, startCli } from "./helpers/cli-process.js";
import { parseSse } from "../helpers/sse.js";

afterEach(() => killAllClis());

const runBody = (threadId: string) =>
  JSON.stringify({ threadId, runId: `${threadId}-r`, messages: [{ id: `${threadId}-u`, role: "user", content: "hello" }], tools: [], context: [] });

type Line = Record<string, any>;

/** Every stdout line, parsed: throws on any line that is not JSON. */
function jsonLines(raw: string): Line[] {
  return raw
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as Line);
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 250 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe("copilot-runtime serve --log-format json", () => {
  it("writes only JSON lines with pino's fields; requests and runs carry the request id", async () => {
    const cli = await startCli(["--memory", "--log-format", "json"]);
    const info = await fetch(`${cli.url}/info`, { headers: { "x-request-id": "cli-info-1" } });
    expect(info.headers.get("x-request-id")).toBe("cli-info-1");
    const run = await fetch(`${cli.url}/agent/default/run`, { method: "POST", headers: { "content-type": "application/json" }, body: runBody("log-1") });
    const runId = run.headers.get("x-request-id")!;
    expect(runId).toMatch(/^[0-9a-f-]{36}$/);
    const events = parseSse(await run.text());
    await until(() => jsonLines(cli.rawOutput()).some((line) => line.msg === "request" && line.requestId === runId));

    const lines = jsonLines(cli.rawOutput());
    for (const line of lines) {
      expect(line.level).toEqual(expect.any(Number));
      expect([20, 30, 40, 50, 60]).toContain(line.level);
      expect(line.time).toEqual(expect.any(Number));
      expect(line.msg).toEqual(expect.any(String));
      expect(line.pid).toBe(cli.child.pid);
      expect(line.hostname).toEqual(expect.any(String));
    }
    expect(lines.find((line) => /listening on/.test(line.msg))).toMatchObject({ level: 30, url: cli.url });
    expect(lines.find((line) => line.msg === "request" && line.requestId === "cli-info-1")).toMatchObject({
      level: 30,
      method: "GET",
      route: "info",
      path: "/api/copilotkit/info",
      status: 200,
    });
    const mine = lines.filter((line) => line.requestId === runId);
    expect(mine.map((line) => line.msg)).toEqual(["run started", "run ended", "request"]);
    expect(mine[1]).toMatchObject({ agentId: "default", threadId: "log-1", runId: "log-1-r", outcome: "finished", events: events.length });
    expect(mine[2]).toMatchObject({ route: "run", status: 200, events: events.length });
    expect(mine[2].durationMs).toEqual(expect.any(Number));
  });

  it("takes the format and level from the config file's log key; the flags win; default info and the terminal decides", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cli-log-"));
    writeFileSync(join(dir, "copilot-runtime.config.mjs"), `export default { log: { format: "pretty", level: "warn" } };`);
    const fromFile = await prepareServe(parseArgs(["serve", "--memory"], {}), {}, dir);
    expect(fromFile.log).toEqual({ format: "pretty", level: "warn" });
    const withFlags = await prepareServe(parseArgs(["serve", "--memory", "--log-format", "json", "--log-level=debug"], {}), {}, dir);
    expect(withFlags.log).toEqual({ format: "json", level: "debug" });
    const bare = await prepareServe(parseArgs(["serve", "--memory"], {}), {}, mkdtempSync(join(tmpdir(), "cli-log-")));
    expect(bare.log).toEqual({ format: undefined, level: "info" });
  });
});

describe("serve's log flags and config keys", () => {
  it("parses --log-format and --log-level strictly", () => {
    expect(parseArgs(["serve", "--log-format", "json", "--log-level", "warn"], {}).log).toEqual({ format: "json", level: "warn" });
    expect(parseArgs(["serve", "--log-format=pretty"], {}).log).toEqual({ format: "pretty" });
    const cases: Array<[string[], string]> = [
      [["--log-format", "xml"], "--log-format must be one of json, pretty, got 'xml'"],
      [["--log-level", "verbose"], "--log-level must be one of debug, info, warn, error, silent, got 'verbose'"],
      [["--log-level="], "--log-level needs a value"],
      [["--log-format"], "--log-format needs a value"],
      [["--log-format", "--memory"], "--log-format needs a value"],
    ];
    for (const [argv, message] of cases) expect(() => parseArgs(["serve", ...argv], {}), argv.join(" ")).toThrow(message);
  });

  it("refuses a config file's log key it does not know", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cli-log-"));
    const cases: Array<[string, string]> = [
      [`{ log: "json" }`, "`log` must be an object ({ format, level }), got"],
      [`{ log: { format: "xml" } }`, "log.format must be one of json, pretty"],
      [`{ log: { level: 30 } }`, "log.level must be one of debug, info, warn, error, silent"],
      [`{ log: { colour: true } }`, "unknown option `log.colour`"],
    ];
    for (const [i, [config, message]] of cases.entries()) {
      const file = join(dir, `case-${i}.config.mjs`);
      writeFileSync(file, `export default ${config};`);
      await expect(prepareServe(parseArgs(["serve", "--memory", "--config", file], {}), {}, dir)).rejects.toThrow(message);
    }
  });
});

describe("the CLI logger", () => {
  const capture = (level: "debug" | "info" | "warn" | "error" | "silent", format: "json" | "pretty" = "json") => {
    const written: string[] = [];
    const log = createCliLogger({ format, level, write: (line) => void written.push(line), now: () => 1_733_230_000_000 });
    return { log, written };
  };

  it("writes pino's JSON: numeric levels, bindings from child(), errors as {type, message, stack}", () => {
    const { log, written } = capture("info");
    const failure = new TypeError("bad thing", { cause: new Error("root cause") });
    (failure as TypeError & { code?: string }).code = "E_BAD";
    log.child!({ requestId: "req-1" }).error({ err: failure, threadId: "t" }, "it failed");
    log.debug!({}, "not written at info");
    log.warn({ big: 10n as unknown as number, self: undefined }, "odd values");
    expect(written).toHaveLength(2);
    expect(written.every((line) => line.endsWith("\n") && !line.slice(0, -1).includes("\n"))).toBe(true);
    const first = JSON.parse(written[0]);
    expect(first).toMatchObject({ level: 50, time: 1_733_230_000_000, pid: process.pid, requestId: "req-1", threadId: "t", msg: "it failed" });
    expect(first.hostname).toEqual(expect.any(String));
    expect(first.err).toMatchObject({ type: "TypeError", message: "bad thing", code: "E_BAD", cause: { type: "Error", message: "root cause" } });
    expect(first.err.stack).toContain("TypeError: bad thing");
    expect(Object.keys(first).slice(0, 4)).toEqual(["level", "time", "pid", "hostname"]);
    expect(JSON.parse(written[1])).toMatchObject({ level: 40, big: "10", msg: "odd values" });
  });

  it("keeps a line whose fields hold a cycle", () => {
    const { log, written } = capture("info");
    const cyclic: Record<string, unknown> = { name: "loop" };
    cyclic.self = cyclic;
    log.info({ cyclic }, "cycle");
    expect(JSON.parse(written[0])).toMatchObject({ msg: "cycle", cyclic: { name: "loop", self: "[Circular]" } });
  });

  it("is silent at silent, and reports its level through isLevelEnabled", () => {
    const { log, written } = capture("silent");
    log.error({}, "nothing");
    expect(written).toEqual([]);
    expect(log.isLevelEnabled!("error")).toBe(false);
    expect(capture("warn").log.isLevelEnabled!("info")).toBe(false);
    expect(capture("warn").log.isLevelEnabled!("error")).toBe(true);
  });

  it("formats a pretty line: time, level, message, fields, then the error's stack indented", () => {
    const error = new Error("kaput");
    const line = formatPretty({
      level: 50,
      time: Date.UTC(2026, 0, 2, 3, 4, 5, 678),
      pid: 1,
      hostname: "h",
      requestId: "req-1",
      path: "/a b",
      status: 500,
      err: { type: "Error", message: "kaput", stack: error.stack },
      msg: "request failed",
    });
    const [first, ...rest] = line.split("\n");
    expect(first).toBe('03:04:05.678 ERROR request failed requestId=req-1 path="/a b" status=500');
    expect(rest[0]).toBe("    Error: kaput");
    expect(rest.length).toBeGreaterThan(1);
    expect(formatPretty({ level: 30, time: 0, msg: "hello" })).toBe("00:00:00.000 INFO  hello");
  });

  it("writes pretty lines through the same logger when the format is pretty", () => {
    const { log, written } = capture("info", "pretty");
    log.child!({ requestId: "r" }).info({ status: 200 }, "request");
    expect(written).toEqual([`${new Date(1_733_230_000_000).toISOString().slice(11, 23)} INFO  request requestId=r status=200\n`]);
  });
});
