/**
 * Code written against `@copilotkit/runtime@1.75.0`'s types compiles against ours with only the
 * package name changed. One snippet, compiled twice by `tsc` (strict, NodeNext): once importing
 * `@copilotkit/runtime/v2...` (proof it is 1.75 code) and once importing `copilot-runtime/v2...`
 * (through our package's own exports map, so dist/ must be built: `npx tsup`).
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** Inside the repository, under its package.json, so both packages resolve (ours by self-reference). */
const DIR = join(ROOT, `.type-parity-${process.pid}`);
afterAll(() => rmSync(DIR, { recursive: true, force: true }));

/** A 1.75 app's server code using the public types. `PKG` is the package name. */
const SNIPPET = `
import {
  AgentRunner,
  BuiltInAgent,
  CopilotRuntime,
  CopilotSseRuntime,
  InMemoryAgentRunner,
  TranscriptionService,
  VERSION,
  createCopilotEndpoint,
  createCopilotEndpointSingleRoute,
  createCopilotHonoHandler,
  createCopilotRuntimeHandler,
  defineTool,
  isIntelligenceRuntime,
  resolveAgents,
  supportsLocalThreadEndpoints,
  toFetchCorsConfig,
  type AgentFactoryContext,
  type AgentRunnerConnectRequest,
  type AgentRunnerIsRunningRequest,
  type AgentRunnerRunRequest,
  type AgentRunnerStopRequest,
  type AgentsConfig,
  type AgentsFactory,
  type CopilotCorsConfig,
  type CopilotEndpointCorsConfig,
  type CopilotHonoApp,
  type CopilotKitRequestHandler,
  type CopilotRuntimeFetchHandler,
  type CopilotRuntimeHandlerOptions,
  type CopilotRuntimeLike,
  type CopilotRuntimeOptions,
  type CopilotRuntimeUser,
  type CopilotSseRuntimeOptions,
  type IdentifyUserCallback,
  type InMemoryAgentRunnerOptions,
  type InMemoryLimits,
  type TranscribeFileOptions,
} from "PKG/v2";
import { createCopilotExpressHandler, createCopilotEndpointExpress, createCopilotEndpointSingleRouteExpress, type CopilotExpressEndpointParams, type CopilotExpressRouter } from "PKG/v2/express";
import { createCopilotNodeHandler, createCopilotNodeListener, createNodeFetchHandler, type NodeCopilotListener, type NodeFetchHandler } from "PKG/v2/node";
import { createCopilotHonoHandler as honoFromSubpath, toFetchCorsConfig as corsFromSubpath } from "PKG/v2/hono";
import { createServer } from "node:http";
import { z } from "zod";

const weather = defineTool({
  name: "weather",
  description: "The weather in a city",
  parameters: z.object({ city: z.string() }),
  execute: async ({ city }) => ({ city, sky: "clear" }),
});
const agent = new BuiltInAgent({ model: "openai/gpt-4o-mini", prompt: "Be brief.", tools: [weather] });

const factory: AgentsFactory = ({ request }: AgentFactoryContext) => ({ default: agent, [request.headers.get("x-tenant") ?? "t"]: agent });
const agents: AgentsConfig = { default: agent };
const limits: InMemoryLimits = { maxThreads: 100, maxRunsPerThread: 10 };
const runnerOptions: InMemoryAgentRunnerOptions = { ...limits, maxBytes: 1_000_000 };

class Whisper extends TranscriptionService {
  async transcribeFile(options: TranscribeFileOptions): Promise<string> {
    return options.audioFile.name;
  }
}

const options: CopilotRuntimeOptions = {
  agents,
  runner: new InMemoryAgentRunner(runnerOptions),
  transcriptionService: new Whisper(),
  beforeRequestMiddleware: async ({ request }) => request,
  afterRequestMiddleware: async () => {},
};
const runtime = new CopilotRuntime(options);
const sseOptions: CopilotSseRuntimeOptions = { agents: factory };
const sse = new CopilotSseRuntime(sseOptions);
const like: CopilotRuntimeLike = runtime;
const mode: "sse" | "intelligence" = runtime.mode;
const intelligent: boolean = isIntelligenceRuntime(like);
const local: boolean = supportsLocalThreadEndpoints(runtime.runner);
const runner: AgentRunner = runtime.runner;

const identify: IdentifyUserCallback = async (request: Request): Promise<CopilotRuntimeUser> => ({ id: request.headers.get("x-user") ?? "anon", name: "A" });

const hooklessCors: CopilotEndpointCorsConfig = { origin: (origin: string, c: any) => (c ? null : origin), credentials: true };
const fetchCors: CopilotCorsConfig = toFetchCorsConfig(hooklessCors);
const handlerOptions: CopilotRuntimeHandlerOptions = { runtime, basePath: "/api/copilotkit", mode: "multi-route", cors: fetchCors };
const handler: CopilotRuntimeFetchHandler = createCopilotRuntimeHandler(handlerOptions);
const legacy: CopilotKitRequestHandler = ({ request }) => handler(request);

const app: CopilotHonoApp = createCopilotHonoHandler({ runtime, basePath: "/api/copilotkit", cors: { origin: "https://app.example", credentials: true } });
const single = createCopilotHonoHandler({ runtime: sse, basePath: "/api/copilotkit", mode: "single-route" });
const older = createCopilotEndpoint({ runtime, basePath: "/api/copilotkit" });
const olderSingle = createCopilotEndpointSingleRoute({ runtime, basePath: "/api/copilotkit" });
const fromSubpath = honoFromSubpath({ runtime, basePath: "/api" });
const subpathCors: CopilotCorsConfig = corsFromSubpath({ origin: ["https://a.example"] });

const expressParams: CopilotExpressEndpointParams = { runtime, basePath: "/api/copilotkit", cors: true };
const router: CopilotExpressRouter = createCopilotExpressHandler(expressParams);
const router2: CopilotExpressRouter = createCopilotEndpointExpress({ runtime, basePath: "/api/copilotkit" });
const router3: CopilotExpressRouter = createCopilotEndpointSingleRouteExpress({ runtime, basePath: "/api/copilotkit" });

const listener: NodeCopilotListener = createCopilotNodeListener({ runtime, basePath: "/api/copilotkit", cors: true });
const nodeHandler: NodeFetchHandler = createCopilotNodeHandler(handler);
const deprecatedNode: NodeFetchHandler = createNodeFetchHandler(handler);
createServer(listener);
createServer(nodeHandler);

async function main(request: Request): Promise<void> {
  const resolved = await resolveAgents(factory, request);
  const response: Response = await app.fetch(request);
  const direct: Response = await handler(request);
  console.log(VERSION.length, Object.keys(resolved), response.status, direct.status, single, older, olderSingle, fromSubpath, subpathCors, router, router2, router3, deprecatedNode, legacy, identify, mode, intelligent, local, runner);
}
void main;

type Requests = [AgentRunnerRunRequest, AgentRunnerConnectRequest, AgentRunnerIsRunningRequest, AgentRunnerStopRequest];
export type { Requests };
`;

const TSCONFIG = {
  compilerOptions: {
    target: "ES2022",
    module: "NodeNext",
    moduleResolution: "NodeNext",
    lib: ["ES2023", "DOM", "DOM.Iterable"],
    strict: true,
    skipLibCheck: true,
    noEmit: true,
    types: ["node"],
  },
  include: ["app.ts"],
};

/** Compiles the snippet for one package; returns tsc's exit status and output. */
function compile(packageName: string): { status: number; output: string } {
  const dir = join(DIR, packageName.replace(/[@/]/g, "_"));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify(TSCONFIG));
  writeFileSync(join(dir, "app.ts"), SNIPPET.replaceAll('"PKG/', `"${packageName}/`));
  try {
    const output = execFileSync(process.execPath, [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", dir], { encoding: "utf8" });
    return { status: 0, output };
  } catch (error) {
    const failed = error as { status: number; stdout: string; stderr: string };
    return { status: failed.status, output: `${failed.stdout}${failed.stderr}` };
  }
}

describe("a server written against @copilotkit/runtime 1.75's types", () => {
  it("compiles against @copilotkit/runtime 1.75 itself (the snippet is 1.75 code)", () => {
    const { status, output } = compile("@copilotkit/runtime");
    expect(output).toBe("");
    expect(status).toBe(0);
  }, 120_000);

  it("compiles against copilot-runtime with only the package name changed", () => {
    expect(existsSync(join(ROOT, "dist", "v2", "index.d.ts")), "dist/ is missing: run `npx tsup`").toBe(true);
    const { status, output } = compile("copilot-runtime");
    expect(output).toBe("");
    expect(status).toBe(0);
  }, 120_000);
});
