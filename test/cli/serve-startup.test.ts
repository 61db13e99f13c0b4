/**
 * `copilot-runtime serve` start-up edges: a config error names file:line:column, a config BuiltInAgent
 * without its key stops the start, a failed start removes only the database it created, and the
 * listening line is followed by a curl that works.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { killAllClis, runCliToExit, startCli } from "./helpers/cli-process.js";

const DIST_BUILT_IN = pathToFileURL(join(import.meta.dirname, "../../dist/built-in.js")).href;

const dirs: string[] = [];
function projectDir(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "copilot-runtime-start-"));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const servers: Server[] = [];
/** A port something else already listens on. */
async function occupiedPort(): Promise<number> {
  const server = createServer();
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as { port: number }).port;
}

afterEach(() => killAllClis());
afterAll(() => {
  for (const server of servers) server.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe("config errors name the file, line and column", () => {
  it("a syntax error in a .mjs config: file:line:column, the line and a caret", async () => {
    const dir = projectDir({
      "x.config.mjs": "const a = 1;\n\nexport default {\n  agents: { x: ) }\n};\n",
    });
    const path = join(dir, "x.config.mjs");
    const result = await runCliToExit(["--config", "x.config.mjs"], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`Could not load config ${path}:\nSyntaxError: Unexpected token ')'\n    at ${path}:4:16\n  4 |   agents: { x: ) }\n    |                ^`);
  });

  it("a syntax error in a CommonJS .js config: file:line:column", async () => {
    const dir = projectDir({ "x.config.js": "const a = 1;\nfoo(;\nmodule.exports = {};\n" });
    const path = join(dir, "x.config.js");
    const result = await runCliToExit(["--config", "x.config.js"], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`Could not load config ${path}:\nSyntaxError: Unexpected token ';'\n    at ${path}:2:5`);
  });

  it("a throw while the config loads, and a throw in its default export function: file:line:column", async () => {
    const dir = projectDir({
      "throws.config.mjs": "const a = 1;\n\nif (a) throw new Error('missing SECRET');\nexport default {};\n",
      "factory.config.mjs": "export default () => {\n  throw new RangeError('no tenant');\n};\n",
    });
    const throws = await runCliToExit(["--config", "throws.config.mjs"], { cwd: dir });
    expect(throws.code).toBe(2);
    const path = join(dir, "throws.config.mjs");
    expect(throws.stderr).toContain(`Could not load config ${path}:\nError: missing SECRET\n    at ${path}:3:14\n  3 | if (a) throw new Error('missing SECRET');`);

    const factory = await runCliToExit(["--config", "factory.config.mjs"], { cwd: dir });
    expect(factory.code).toBe(2);
    expect(factory.stderr).toContain(`its default export (a function) threw: RangeError: no tenant\n    at ${join(dir, "factory.config.mjs")}:2:9`);
  });
});

describe("config errors in a TypeScript config", () => {
  it("a throw in a .ts config transpiled with typescript points into the .ts file", async () => {
    const dir = projectDir({ "x.config.ts": "const a: number = 1;\n\nif (a) throw new Error('no SECRET');\nexport default {};\n" });
    const path = join(dir, "x.config.ts");
    const result = await runCliToExit(["--config", "x.config.ts", "--memory"], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`Could not load config ${path} (transpiled with typescript):\nError: no SECRET\n    at ${path}:3:14`);
    expect(readdirSync(dir)).toEqual(["x.config.ts"]); // the transpiled copy is gone too
  });
});

describe("every configured agent is checked at start-up", () => {
  it("a BuiltInAgent in the config file without its provider's key stops the start with exit 2, naming the agent and the variable", async () => {
    const dir = projectDir({
      "keys.config.mjs": `import { BuiltInAgent } from ${JSON.stringify(DIST_BUILT_IN)};
export default { agents: { helper: new BuiltInAgent({ model: "anthropic/claude-sonnet-4-5" }) } };`,
    });
    const result = await runCliToExit(["--config", "keys.config.mjs", "--memory"], { cwd: dir, env: { OPENAI_API_KEY: "sk-other-provider" } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      `Config ${join(dir, "keys.config.mjs")}: agent "helper" (BuiltInAgent, model anthropic/claude-sonnet-4-5) needs an API key for "anthropic": set ANTHROPIC_API_KEY, or pass apiKey to the BuiltInAgent.`,
    );
    expect(result.stdout).not.toContain("listening");
  });

  it("starts when the key is in the environment or given as apiKey", async () => {
    const dir = projectDir({
      "keys.config.mjs": `import { BuiltInAgent } from ${JSON.stringify(DIST_BUILT_IN)};
export default { agents: {
  fromEnv: new BuiltInAgent({ model: "google/gemini-2.5-flash" }),
  own: new BuiltInAgent({ model: "anthropic/claude-sonnet-4-5", apiKey: "sk-ant-own" }),
} };`,
    });
    const cli = await startCli(["--config", "keys.config.mjs", "--memory"], { cwd: dir, env: { GOOGLE_GENERATIVE_AI_API_KEY: "g-key" } });
    expect(cli.output()).toContain('agent "own": BuiltInAgent, model anthropic/claude-sonnet-4-5');
  });
});

describe("a failed start leaves no files behind", () => {
  it("removes the SQLite files it created when the port is in use", async () => {
    const dir = projectDir();
    const port = await occupiedPort();
    const result = await runCliToExit(["--port", String(port)], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`could not listen on 127.0.0.1:${port}`);
    expect(result.stdout).toContain(`SQLite ${join(dir, "copilot-runtime.db")}`); // it was created, then removed
    expect(readdirSync(dir).filter((name) => name.startsWith("copilot-runtime.db"))).toEqual([]);
  });

  it("keeps a database that was there before the start", async () => {
    const dir = projectDir();
    const first = await startCli([], { cwd: dir });
    await new Promise((resolve) => {
      first.child.on("exit", resolve);
      first.child.kill("SIGTERM");
    });
    expect(existsSync(join(dir, "copilot-runtime.db"))).toBe(true);

    const port = await occupiedPort();
    const result = await runCliToExit(["--port", String(port)], { cwd: dir });
    expect(result.code).toBe(1);
    expect(existsSync(join(dir, "copilot-runtime.db"))).toBe(true);
  });
});

describe("the next steps after the listening line", () => {
  it("prints a curl that runs the default agent, and where the example app is", async () => {
    const cli = await startCli(["--memory"], { cwd: projectDir() });
    await waitFor(() => cli.output().includes("next steps:"));
    const output = cli.output();
    expect(output.indexOf("next steps:")).toBeGreaterThan(output.indexOf("listening on"));
    expect(output).toContain("examples/chat");
    const command = /next steps: try (curl .*?\}'); /.exec(output)?.[1];
    expect(command).toBe(
      `curl -N -X POST ${cli.url}/agent/default/run -H 'content-type: application/json' -d '{"threadId":"try-thread","runId":"try-run","state":{},"messages":[{"id":"try-message","role":"user","content":"Hello!"}],"tools":[],"context":[],"forwardedProps":{}}'`,
    );
    // Run it as printed, through a shell.
    const { stdout } = await promisify(execFile)("/bin/sh", ["-c", `${command} --silent --max-time 20`]);
    expect(stdout).toContain('"type":"RUN_STARTED"');
    expect(stdout).toContain('"type":"RUN_FINISHED"');
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
}
