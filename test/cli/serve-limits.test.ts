/**
 * `serve`'s server limits and event-stream limits: strict flags, the config file's `server` and
 * `endpoint.limits` under them, and the running CLI applying them (timeouts, JSON refusals,
 * listen backlog, 429 past --max-streams).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { parseArgs } from "../../src/cli/args.js";
import { prepareServe } from "../../src/cli/startup.js";
import { killAllClis, runCliToExit, startCli } from "./helpers/cli-process.js";

afterEach(() => killAllClis());

describe("limit flags", () => {
  it("parses the timeouts, the backlog and the stream limits", () => {
    const args = parseArgs(
      ["serve", "--headers-timeout", "5000", "--request-timeout=20000", "--keep-alive-timeout", "0", "--backlog", "1024", "--max-streams", "500", "--max-streams-per-user=0"],
      {},
    );
    expect(args.server).toEqual({ headersTimeoutMs: 5000, requestTimeoutMs: 20000, keepAliveTimeoutMs: 0, backlog: 1024 });
    expect(args.limits).toEqual({ maxStreams: 500, maxStreamsPerUser: 0 });
  });

  it("refuses empty, guessed-at and misplaced values with a readable message", () => {
    const cases: Array<[string[], RegExp]> = [
      [["--port="], /--port needs a value: --port=<value> or --port <value>/],
      [["--request-timeout="], /--request-timeout needs a value/],
      [["--port", "--host", "x"], /--port needs a value/],
      [["--backlog"], /--backlog needs a value/],
      [["--backlog", "0"], /--backlog must be at least 1/],
      [["--backlog", "1e3"], /--backlog must be a whole number of connections, got '1e3'/],
      [["--headers-timeout", "-1"], /--headers-timeout must be a whole number of milliseconds/],
      [["--request-timeout", "2.5"], /--request-timeout must be a whole number/],
      [["--max-streams", "0x10"], /--max-streams must be a whole number/],
      [["--max-streams-per-user", " 5"], /--max-streams-per-user must be a whole number/],
      [["--port", "80abc"], /--port must be a port number/],
      [["--memory=yes"], /--memory takes no value, got '--memory=yes'/],
      [["--help=1"], /--help takes no value/],
    ];
    for (const [argv, message] of cases) expect(() => parseArgs(["serve", ...argv], {}), argv.join(" ")).toThrow(message);
  });

  it("exits 2 with the message for a bad limit, without a stack trace", async () => {
    const result = await runCliToExit(["--memory", "--headers-timeout", "5000", "--request-timeout", "1000"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("headersTimeoutMs (5000) must not be longer than requestTimeoutMs (1000)");
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});

describe("limits from the config file", () => {
  const dir = mkdtempSync(join(tmpdir(), "serve-limits-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("takes server and endpoint.limits from the file, flags winning limit by limit, defaults for the rest", async () => {
    writeFileSync(
      join(dir, "copilot-runtime.config.mjs"),
      "export default { server: { backlog: 77, requestTimeoutMs: 20000 }, endpoint: { limits: { maxStreams: 9, maxStreamsPerUser: 3 } } };\n",
    );
    const fromFile = await prepareServe(parseArgs(["serve"], {}), {}, dir);
    expect(fromFile.server).toEqual({ headersTimeoutMs: 10_000, requestTimeoutMs: 20_000, keepAliveTimeoutMs: 65_000, backlog: 77 });
    expect(fromFile.endpointOptions.limits).toEqual({ maxStreams: 9, maxStreamsPerUser: 3 });
    expect(fromFile.lines).toContain("limits: headers 10 s, request 20 s, keep-alive 65 s, backlog 77; event streams 9 open, 3 per user");

    const withFlags = await prepareServe(parseArgs(["serve", "--backlog", "100", "--request-timeout", "15000", "--max-streams", "0"], {}), {}, dir);
    expect(withFlags.server).toMatchObject({ requestTimeoutMs: 15_000, backlog: 100 });
    expect(withFlags.endpointOptions.limits).toEqual({ maxStreams: 0, maxStreamsPerUser: 3 });
  });

  it("uses the defaults without a config file", async () => {
    const empty = mkdtempSync(join(tmpdir(), "serve-limits-none-"));
    try {
      const setup = await prepareServe(parseArgs(["serve"], {}), {}, empty);
      expect(setup.server).toEqual({ headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 65_000, backlog: 4096 });
      expect(setup.endpointOptions.limits).toBeUndefined(); // the handler's defaults: 10,000 and 64
      expect(setup.lines).toContain("limits: headers 10 s, request 30 s, keep-alive 65 s, backlog 4096; event streams 10000 open, 64 per user");
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

/** Writes `chunks` to the server (a list: one every `everyMs`) and reads until it closes the socket. */
function raw(url: string, chunks: string[], everyMs = 0): Promise<{ status: number; headers: string; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    let text = "";
    let timer: ReturnType<typeof setInterval> | undefined;
    socket.on("connect", () => {
      const queue = [...chunks];
      socket.write(queue.shift()!);
      if (queue.length > 0) {
        timer = setInterval(() => {
          const next = queue.shift();
          if (next === undefined || socket.destroyed) clearInterval(timer);
          else socket.write(next);
        }, everyMs);
      }
    });
    socket.on("data", (chunk) => (text += chunk.toString("latin1")));
    socket.on("error", () => {});
    socket.on("close", () => {
      clearInterval(timer);
      const split = text.indexOf("\r\n\r\n");
      const headers = split === -1 ? text : text.slice(0, split);
      resolve({ status: Number(headers.split(" ")[1]), headers: headers.toLowerCase(), body: split === -1 ? "" : text.slice(split + 4) });
    });
  });
}

function hasSs(): boolean {
  try {
    execFileSync("ss", ["-V"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

describe("serve applies the limits", () => {
  it("listens with --backlog, cuts a trickled body with a JSON 408, answers oversized headers with a JSON 431, and refuses past --max-streams", { timeout: 60_000 }, async () => {
    const started = await startCli(["--memory", "--backlog", "123", "--headers-timeout", "1000", "--request-timeout", "1500", "--max-streams", "1"]);
    expect(started.output()).toContain("limits: headers 1 s, request 1.5 s, keep-alive 65 s, backlog 123; event streams 1 open, 64 per user");
    const port = new URL(started.url).port;

    if (hasSs()) {
      // A listening socket's Send-Q is its backlog.
      const line = execFileSync("ss", ["-ltnH", `sport = :${port}`], { encoding: "utf8" }).trim();
      expect(line.split(/\s+/)[2]).toBe("123");
    }

    const big = await raw(started.url, [`GET /api/copilotkit/info HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(40_000)}\r\n\r\n`]);
    expect(big.status).toBe(431);
    expect(JSON.parse(big.body)).toMatchObject({ error: "request_header_too_large" });

    const head = `POST /api/copilotkit/agent/default/run HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n`;
    const startedAt = Date.now();
    const slow = await raw(started.url, [head, ..."x".repeat(50).split("")], 200);
    expect(slow.status).toBe(408);
    expect(JSON.parse(slow.body)).toMatchObject({ error: "request_timeout" });
    expect(Date.now() - startedAt).toBeLessThan(9_000); // the whole body would take 10 s

    const run = (threadId: string) =>
      fetch(`${started.url}/agent/default/run`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ threadId, runId: `${threadId}-r`, messages: [{ id: "u", role: "user", content: "a long one" }], tools: [], context: [] }),
      });
    const first = await run("cli-limit-1");
    expect(first.status).toBe(200);
    const reader = first.body!.getReader();
    await reader.read();
    const second = await run("cli-limit-2");
    expect(second.status).toBe(429);
    expect(second.headers.get("retry-after")).toBe("5");
    expect(await second.json()).toMatchObject({ error: "too_many_streams", limit: 1 });
    await reader.cancel();
  });
});
