/**
 * `copilot-runtime serve` as a user runs it: agents from a config file (a local agent and an HttpAgent
 * pointing at another AG-UI server), a BuiltInAgent chosen from the environment and talking to a local
 * fake of OpenAI's API, and start-up failures that exit with code 2 and a readable message.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { BaseEvent } from "@ag-ui/client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DemoAgent } from "../../src/agents/demo.js";
import { CopilotRuntime } from "../../src/runtime.js";
import { startFakeProvider, type FakeProvider } from "../agents/built-in/helpers/fake-provider.js";
import { responses, responsesStream } from "../agents/built-in/helpers/scripts.js";
import { expectValidStream } from "../agents/built-in/helpers/verify.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { killAllClis, runCliToExit, startCli } from "./helpers/cli-process.js";
import { parseSse } from "../helpers/sse.js";

const DIST_INDEX = pathToFileURL(join(import.meta.dirname, "../../dist/index.js")).href;
const DIST_CONFIG = pathToFileURL(join(import.meta.dirname, "../../dist/config.js")).href;
// The ESM build of @ag-ui/client this repository installs, by absolute URL: the config lives in a temp directory.
const AG_UI_CLIENT = pathToFileURL(
  createRequire(import.meta.url).resolve("@ag-ui/client").replace(/index\.js$/, "index.mjs"),
).href;

const dirs: string[] = [];
function projectDir(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "copilot-runtime-cli-"));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

afterEach(() => killAllClis());
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function run(url: string, agentId: string, text: string, threadId: string) {
  const response = await fetch(`${url}/agent/${agentId}/run`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "text/event-stream" },
    body: JSON.stringify({
      threadId,
      runId: `${threadId}-run`,
      messages: [{ id: `${threadId}-u`, role: "user", content: text }],
      tools: [],
      context: [],
      state: {},
      forwardedProps: {},
    }),
  });
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/text\/event-stream/);
  return parseSse(await response.text());
}

const textOf = (events: Array<Record<string, any>>) =>
  events.filter((event) => event.type === "TEXT_MESSAGE_CONTENT").map((event) => event.delta).join("");

describe("copilot-runtime serve with a config file", () => {
  let remote: TestServer;
  const remoteRequests: string[] = [];

  beforeAll(async () => {
    // Another AG-UI server: our own runtime, serving a demo agent at /api/copilotkit/agent/default/run.
    remote = await startServer({
      runtime: new CopilotRuntime({
        agents: { default: new DemoAgent({ wordDelayMs: 1, description: "remote demo" }) },
        beforeRequestMiddleware: ({ request, path }) => void remoteRequests.push(`${request.method} ${path}`),
      }),
    });
  });
  afterAll(() => remote.close());

  it("registers a local agent and an HttpAgent; /info lists both and a run through the HttpAgent streams", async () => {
    const remoteUrl = `${remote.runtimeUrl}/agent/default/run`;
    const dir = projectDir({
      "copilot-runtime.config.mjs": `
import { DemoAgent } from ${JSON.stringify(DIST_INDEX)};
import { defineConfig } from ${JSON.stringify(DIST_CONFIG)};
import { HttpAgent } from ${JSON.stringify(AG_UI_CLIENT)};

export default defineConfig({
  agents: {
    default: new DemoAgent({ wordDelayMs: 1, description: "local demo" }),
    remote: new HttpAgent({ url: ${JSON.stringify(remoteUrl)}, description: "through HTTP" }),
  },
  basePath: "/cfg",
  port: 1, // --port 0 on the command line wins
});
`,
    });
    const cli = await startCli([], { cwd: dir });
    expect(cli.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/cfg$/);
    const output = cli.output();
    expect(output).toContain(`config: ${join(dir, "copilot-runtime.config.mjs")}`);
    expect(output).toContain('agent "default": DemoAgent');
    expect(output).toContain(`agent "remote": HttpAgent -> ${remoteUrl}`);
    expect(output).toMatch(/listening on \S+ \(agents: default, remote;/);

    const info = await (await fetch(`${cli.url}/info`)).json();
    expect(Object.keys(info.agents).sort()).toEqual(["default", "remote"]);
    expect(info.agents.remote.description).toBe("through HTTP");
    expect(info.agents.default.description).toBe("local demo");

    const events = await run(cli.url, "remote", "hello remote", "cfg-remote");
    expect(events[0]).toMatchObject({ type: "RUN_STARTED", threadId: "cfg-remote" });
    expect(events.at(-1)).toMatchObject({ type: "RUN_FINISHED", threadId: "cfg-remote" });
    expect(events.filter((event) => event.type === "TEXT_MESSAGE_CONTENT").length).toBeGreaterThan(3);
    expect(textOf(events)).toContain('You said: "hello remote"');
    expect(remoteRequests).toContain("POST /api/copilotkit/agent/default/run");

    const local = await run(cli.url, "default", "hello local", "cfg-local");
    expect(textOf(local)).toContain('You said: "hello local"');
    expect(remoteRequests.filter((line) => line.endsWith("/run"))).toHaveLength(1);
  });

  it("loads a copilot-runtime.config.ts on plain Node (transpiled with typescript)", async () => {
    const dir = projectDir({
      "copilot-runtime.config.ts": `
import { DemoAgent } from ${JSON.stringify(DIST_INDEX)};
import { defineConfig, type CopilotRuntimeConfig } from ${JSON.stringify(DIST_CONFIG)};
const ids: string[] = ["alpha", "beta"];
const agents: NonNullable<CopilotRuntimeConfig["agents"]> = Object.fromEntries(ids.map((id) => [id, new DemoAgent({ wordDelayMs: 1 })]));
export default defineConfig({ agents, runtime: { identifyUser: (request: Request) => ({ id: request.headers.get("x-user") ?? "anon" }) } });
`,
    });
    const cli = await startCli([], { cwd: dir });
    expect(cli.output()).toContain("(transpiled with typescript)");
    const info = await (await fetch(`${cli.url}/info`)).json();
    expect(Object.keys(info.agents)).toEqual(["alpha", "beta"]);
    expect(textOf(await run(cli.url, "beta", "typed", "ts-1"))).toContain('You said: "typed"');
  });

  it("applies endpoint.hooks: an onRequest auth gate answers 401 before anything runs", async () => {
    const dir = projectDir({
      "copilot-runtime.config.mjs": `
import { DemoAgent } from ${JSON.stringify(DIST_INDEX)};
import { defineConfig } from ${JSON.stringify(DIST_CONFIG)};
export default defineConfig({
  agents: { default: new DemoAgent({ wordDelayMs: 1 }) },
  endpoint: {
    hooks: {
      onRequest: ({ request }) => {
        if (request.headers.get("authorization") !== "Bearer cfg") throw new Response("Unauthorized", { status: 401 });
      },
    },
  },
});
`,
    });
    const cli = await startCli([], { cwd: dir });
    const denied = await fetch(`${cli.url}/info`);
    expect(denied.status).toBe(401);
    expect(await denied.text()).toBe("Unauthorized");
    expect((await fetch(`${cli.url}/info`, { headers: { authorization: "Bearer cfg" } })).status).toBe(200);
  });

  it("exits with code 2 and a readable message when a config registers something that is not an agent", async () => {
    const dir = projectDir({
      "my.config.mjs": `export default { agents: { default: "openai/gpt-4o" } };`,
    });
    const result = await runCliToExit(["--config", "my.config.mjs"], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      `Config ${join(dir, "my.config.mjs")}: agent "default" is not an AG-UI agent (an object with clone() and run() or runAgent()); got the string "openai/gpt-4o".`,
    );
    expect(result.stderr).not.toMatch(/^\s+at /m); // a message, not a stack trace
    expect(result.stdout).not.toContain("listening");
  });

  it("exits with code 2 for a missing --config file, a config that does not parse, and an unknown option", async () => {
    const dir = projectDir({
      "broken.config.mjs": "export default { agents: { ",
      "typo.config.mjs": "export default { agent: {} };",
    });
    const missing = await runCliToExit(["--config", "nope.mjs"], { cwd: dir });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`--config: no such file: ${join(dir, "nope.mjs")}`);

    const broken = await runCliToExit(["--config", "broken.config.mjs"], { cwd: dir });
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain(`Could not load config ${join(dir, "broken.config.mjs")}:\nSyntaxError`);

    const typo = await runCliToExit(["--config", "typo.config.mjs"], { cwd: dir });
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain("unknown option `agent`. Known: agents, runtime");
  });
});

describe("copilot-runtime serve choosing the agent from the environment", () => {
  let provider: FakeProvider;
  beforeAll(async () => {
    provider = await startFakeProvider();
  });
  afterAll(() => provider.close());
  afterEach(() => provider.reset());

  it("runs a BuiltInAgent on OpenAI's default model when OPENAI_API_KEY is set, and turns /transcribe on", async () => {
    const cli = await startCli([], {
      cwd: projectDir(),
      env: { OPENAI_API_KEY: "sk-cli-test-key", OPENAI_BASE_URL: provider.url },
    });
    const output = cli.output();
    expect(output).toContain('agent "default": BuiltInAgent, model openai/gpt-4.1 (OPENAI_API_KEY is set');
    expect(output).toContain("transcription: /transcribe on: OpenAI whisper-1");
    expect(output).not.toContain("sk-cli-test-key");

    provider.enqueue(responsesStream([responses.text("Hello ", "from ", "the fake.")]));
    const events = await run(cli.url, "default", "Say hello", "env-openai");
    expect(events.map((event) => event.type)).toEqual([
      "RUN_STARTED",
      "TEXT_MESSAGE_START",
      "TEXT_MESSAGE_CONTENT",
      "TEXT_MESSAGE_CONTENT",
      "TEXT_MESSAGE_CONTENT",
      "TEXT_MESSAGE_END",
      "RUN_FINISHED",
    ]);
    expect(textOf(events)).toBe("Hello from the fake.");
    await expectValidStream(events as BaseEvent[]);
    const [request] = provider.requests;
    expect(request.path).toBe("/v1/responses");
    expect(request.headers.authorization).toBe("Bearer sk-cli-test-key");
    expect(request.body.model).toBe("gpt-4.1");
    expect(JSON.stringify(request.body.input)).toContain("Say hello");

    provider.enqueue({ json: { text: "spoken words" } });
    const form = new FormData();
    form.append("audio", new Blob([new Uint8Array([26, 69, 223, 163, 1, 2, 3])], { type: "audio/webm" }), "clip.webm");
    const transcribed = await fetch(`${cli.url}/transcribe`, { method: "POST", body: form });
    expect(transcribed.status).toBe(200);
    expect(await transcribed.json()).toMatchObject({ text: "spoken words" });
    expect(provider.requests[1].path).toBe("/v1/audio/transcriptions");
  });

  it("uses COPILOT_RUNTIME_MODEL for the model", async () => {
    const cli = await startCli([], {
      cwd: projectDir(),
      env: { OPENAI_API_KEY: "sk-cli-test-key", OPENAI_BASE_URL: provider.url, COPILOT_RUNTIME_MODEL: "openai:gpt-4o-mini" },
    });
    expect(cli.output()).toContain('agent "default": BuiltInAgent, model openai/gpt-4o-mini (from COPILOT_RUNTIME_MODEL');
    provider.enqueue(responsesStream([responses.text("mini")]));
    expect(textOf(await run(cli.url, "default", "hi", "env-model"))).toBe("mini");
    expect(provider.requests[0].body.model).toBe("gpt-4o-mini");
  });

  it("serves the demo agent and no /transcribe without a key, and says so", async () => {
    const cli = await startCli([], { cwd: projectDir() });
    expect(cli.output()).toContain('agent "default": demo agent (no provider key');
    expect(cli.output()).toContain("transcription: off (set OPENAI_API_KEY to enable /transcribe)");
    const form = new FormData();
    form.append("audio", new Blob([new Uint8Array([1, 2, 3])], { type: "audio/webm" }), "clip.webm");
    const transcribed = await fetch(`${cli.url}/transcribe`, { method: "POST", body: form });
    expect(transcribed.status).not.toBe(200);
  });

  it("exits with code 2 for a COPILOT_RUNTIME_MODEL with an unknown provider", async () => {
    const result = await runCliToExit([], {
      cwd: projectDir(),
      env: { OPENAI_API_KEY: "sk-cli-test-key", COPILOT_RUNTIME_MODEL: "mistral/mistral-large" },
    });
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(
      'COPILOT_RUNTIME_MODEL: Unknown model provider "mistral" in "mistral/mistral-large". Supported: openai, anthropic, google (gemini), minimax, vertex. Or set it to "demo" for the demo agent.',
    );
  });
});
