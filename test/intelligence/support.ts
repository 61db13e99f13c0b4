/**
 * Shared by the Intelligence-mode tests: both runtimes (CopilotKit 1.75's and ours), each set up
 * in Intelligence mode on its own recording fake platform, and helpers to compare what they did.
 */
import { ScriptedAgent, textReply } from "../helpers/agents.js";
import { type FakePlatform, startFakePlatform } from "../helpers/fake-intelligence-platform.js";
import { disableCopilotKitTelemetry } from "../helpers/runtimes.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Untyped = any;

export interface Impl {
  name: "copilotkit" | "ours";
  CopilotRuntime: new (options: Untyped) => Untyped;
  CopilotKitIntelligence: new (options: Untyped) => Untyped;
  createCopilotRuntimeHandler: (options: Untyped) => (request: Request) => Promise<Response>;
}

let impls: Impl[];
const platforms: FakePlatform[] = [];

/** Loads both runtimes (call in `beforeAll`). */
export async function loadImpls(): Promise<void> {
  disableCopilotKitTelemetry();
  const theirs: Untyped = await import("@copilotkit/runtime/v2");
  const ours: Untyped = await import("../../src/index.js");
  impls = [
    { name: "copilotkit", CopilotRuntime: theirs.CopilotRuntime, CopilotKitIntelligence: theirs.CopilotKitIntelligence, createCopilotRuntimeHandler: theirs.createCopilotRuntimeHandler },
    { name: "ours", CopilotRuntime: ours.CopilotRuntime, CopilotKitIntelligence: ours.CopilotKitIntelligence, createCopilotRuntimeHandler: ours.createCopilotRuntimeHandler },
  ];
}

/** One of the two runtimes (after {@link loadImpls}). */
export function implNamed(name: Impl["name"]): Impl {
  return impls.find((impl) => impl.name === name)!;
}

/** Closes every fake platform a test file started (call in `afterAll`). */
export async function closePlatforms(): Promise<void> {
  await Promise.all(platforms.splice(0).map((platform) => platform.close()));
}

export const USER = { id: "user-1", name: "Ada" };
const defaultAgent = () => new ScriptedAgent({ script: textReply("Hello there friend") });

export interface Setup {
  impl: Impl;
  platform: FakePlatform;
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown; headers: Headers }>;
}

/** A fresh platform and a runtime of `impl` in Intelligence mode on it. */
export async function setup(impl: Impl, options: { identifyUser?: (request: Request) => unknown; prepare?: (platform: FakePlatform) => void; runtime?: Record<string, unknown>; agents?: Record<string, unknown>; singleRoute?: boolean } = {}): Promise<Setup> {
  const platform = await startFakePlatform();
  platforms.push(platform);
  options.prepare?.(platform);
  const intelligence = new impl.CopilotKitIntelligence({ apiUrl: platform.apiUrl, wsUrl: platform.wsUrl, apiKey: platform.apiKey });
  const runtime = new impl.CopilotRuntime({
    agents: options.agents ?? { default: defaultAgent() },
    intelligence,
    identifyUser: options.identifyUser ?? (() => USER),
    generateThreadNames: false,
    ...options.runtime,
  });
  const handler = impl.createCopilotRuntimeHandler({ runtime, basePath: "/api/copilotkit", ...(options.singleRoute ? { mode: "single-route" } : {}) });
  return {
    impl,
    platform,
    async call(method, path, body) {
      const init: RequestInit = { method, headers: { "Content-Type": "application/json" } };
      if (body !== undefined) init.body = JSON.stringify(body);
      const response = await handler(new Request(`http://app.test/api/copilotkit${path}`, init));
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = text === "" ? undefined : JSON.parse(text);
      } catch {
        // not JSON: compared as text
      }
      return { status: response.status, body: parsed, headers: response.headers };
    },
  };
}

/** Runs `scenario` against both runtimes (each on its own fake platform) and returns both results. */
export async function both<T>(scenario: (impl: Impl) => Promise<T>): Promise<{ copilotkit: T; ours: T }> {
  const [copilotkit, ours] = [await scenario(impls[0]), await scenario(impls[1])];
  return { copilotkit, ours };
}

/** The REST calls a platform saw, comparable across runs (ids of this scenario kept as they are). */
export function restCalls(platform: FakePlatform) {
  return platform.calls.map((call) => ({ call: `${call.method} ${call.route}`, query: call.query, body: call.body, authorization: call.authorization }));
}


/** The platform's address (a port per scenario) as `WS`. */
export function withPort(body: unknown, wsUrl: string): unknown {
  return JSON.parse(JSON.stringify(body ?? null).replaceAll(wsUrl, "WS"));
}

/** Timestamps differ between two runs of a scenario. */
export function scrubTimes<T>(value: T): T {
  return JSON.parse(JSON.stringify(value ?? null), (key, v) => (["createdAt", "updatedAt", "lastRunAt"].includes(key) ? "<time>" : v)) as T;
}
