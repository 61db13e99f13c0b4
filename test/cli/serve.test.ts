import { afterEach, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "../../src/cli/args.js";
import { parseSse } from "../helpers/sse.js";

const CLI = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));

interface Started {
  child: ChildProcess;
  url: string;
  output: () => string;
}

/** Starts `copilot-runtime serve` on a free port and waits for its start-up line. */
function startCli(args: string[], env: Record<string, string> = {}): Promise<Started> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm test does).`);
  // No provider keys (the demo agent must answer) and no database file in the repository.
  const clean = { ...process.env };
  for (const name of ["OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GOOGLE_API_KEY", "GOOGLE_GENERATIVE_AI_API_KEY", "COPILOT_RUNTIME_MODEL", "DATABASE_URL"]) {
    delete clean[name];
  }
  const child = spawn(process.execPath, [CLI, "serve", "--port", "0", "--host", "127.0.0.1", "--memory", ...args], {
    env: { ...clean, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) resolve({ child, url: match[1], output: () => output });
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("exit", (code) => reject(new Error(`CLI exited with ${code} before listening:\n${output}`)));
  });
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
});

describe("copilot-runtime serve", () => {
  it("serves the demo agent with no API key and prints its URL", async () => {
    const started = await startCli([]);
    children.push(started.child);
    expect(started.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/copilotkit$/);
    const info = await (await fetch(`${started.url}/info`)).json();
    expect(Object.keys(info.agents)).toEqual(["default"]);
    const response = await fetch(`${started.url}/agent/default/run`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ threadId: "cli-t", runId: "cli-r", messages: [{ id: "u", role: "user", content: "hello" }], tools: [], context: [] }),
    });
    const events = parseSse(await response.text());
    const text = events.filter((e) => e.type === "TEXT_MESSAGE_CONTENT").map((e) => e.delta).join("");
    expect(text).toContain('You said: "hello"');
    expect(events.filter((e) => e.type === "TEXT_MESSAGE_CONTENT").length).toBeGreaterThan(5);
  });

  it("on SIGTERM stops accepting, ends open streams with a terminal event, and exits 0", async () => {
    const started = await startCli(["--shutdown-timeout", "300"]);
    children.push(started.child);
    const response = await fetch(`${started.url}/agent/default/run`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ threadId: "cli-long", runId: "cli-long-r", messages: [{ id: "u", role: "user", content: "a long one" }], tools: [], context: [] }),
    });
    const reader = response.body!.getReader();
    await reader.read();
    const exited = new Promise<number | null>((resolve) => started.child.on("exit", (code) => resolve(code)));
    started.child.kill("SIGTERM");
    let text = "";
    const decoder = new TextDecoder();
    for (let r = await reader.read(); !r.done; r = await reader.read()) text += decoder.decode(r.value);
    const events = parseSse(text);
    expect(events.at(-1)).toEqual({ type: "RUN_FINISHED", threadId: "cli-long", runId: "cli-long-r" });
    expect(await exited).toBe(0);
    expect(started.output()).toContain("SIGTERM received");
  });
});

describe("copilot-runtime serve start-up failures", () => {
  it("exits 1 with a readable message when the port is taken", async () => {
    const first = await startCli([]);
    children.push(first.child);
    const port = new URL(first.url).port;
    const second = spawn(process.execPath, [CLI, "serve", "--memory", "--host", "127.0.0.1", "--port", port], { stdio: ["ignore", "pipe", "pipe"] });
    children.push(second);
    let output = "";
    second.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    second.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => second.on("exit", resolve));
    expect(code).toBe(1);
    expect(output).toContain(`could not listen on 127.0.0.1:${port}`);
    expect(output).not.toMatch(/\n\s+at /); // no stack trace
  });
});

describe("CLI arguments", () => {
  it("reads --port, --host, --base-path and PORT", () => {
    expect(parseArgs(["serve", "--port", "4000", "--host", "::", "--base-path=/copilot"], {})).toMatchObject({
      command: "serve",
      port: 4000,
      host: "::",
      basePath: "/copilot",
    });
    expect(parseArgs([], { PORT: "5000" }).port).toBe(5000);
  });

  it("rejects bad input with a clear message", () => {
    expect(() => parseArgs(["serve", "--port", "http"], {})).toThrow(/port number/);
    expect(() => parseArgs(["serve", "--bogus"], {})).toThrow(/Unknown option '--bogus'/);
    expect(() => parseArgs(["deploy"], {})).toThrow(/Unknown command 'deploy'/);
  });
});
