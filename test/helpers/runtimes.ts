/**
 * The two runtimes side by side: CopilotKit's `@copilotkit/runtime@1.75` (its `/v2` entries) and
 * ours, loaded through the same shape so one scenario can run against each and compare.
 *
 * @example
 * ```ts
 * const impls = await loadRuntimes();
 * for (const impl of impls) {
 *   const runtime = new impl.CopilotRuntime({ agents: { default: agent } });
 *   const handler = impl.createCopilotRuntimeHandler({ runtime, basePath: "/api", hooks });
 * }
 * ```
 */
import { parseSse, types } from "./sse.js";
import { runInput } from "./inputs.js";

export interface RuntimeImpl {
  name: "copilotkit" | "ours";
  CopilotRuntime: new (options: any) => any;
  createCopilotRuntimeHandler: (options: any) => (request: Request) => Promise<Response>;
  /** Hono: an app with `.fetch`. */
  createCopilotEndpoint: (options: any) => { fetch: (request: Request) => Response | Promise<Response> };
  createCopilotExpressHandler: (options: any) => any;
  createCopilotNodeListener: (options: any) => (req: any, res: any) => unknown;
}

/** CopilotKit's runtime reports usage to an external host unless both of these are set. */
export function disableCopilotKitTelemetry(): void {
  process.env.COPILOTKIT_TELEMETRY_DISABLED = "true";
  process.env.DO_NOT_TRACK = "1";
}

export async function loadCopilotKit(): Promise<RuntimeImpl> {
  disableCopilotKitTelemetry();
  const core: any = await import("@copilotkit/runtime/v2");
  const hono: any = await import("@copilotkit/runtime/v2/hono");
  const express: any = await import("@copilotkit/runtime/v2/express");
  const node: any = await import("@copilotkit/runtime/v2/node");
  return {
    name: "copilotkit",
    CopilotRuntime: core.CopilotRuntime,
    createCopilotRuntimeHandler: core.createCopilotRuntimeHandler,
    createCopilotEndpoint: hono.createCopilotEndpoint,
    createCopilotExpressHandler: express.createCopilotExpressHandler,
    createCopilotNodeListener: node.createCopilotNodeListener,
  };
}

export async function loadOurs(): Promise<RuntimeImpl> {
  const core: any = await import("../../src/index.js");
  const express: any = await import("../../src/adapters/express.js");
  const node: any = await import("../../src/adapters/node.js");
  return {
    name: "ours",
    CopilotRuntime: core.CopilotRuntime,
    createCopilotRuntimeHandler: core.createCopilotRuntimeHandler,
    createCopilotEndpoint: core.createCopilotEndpoint,
    createCopilotExpressHandler: express.createCopilotExpressHandler,
    createCopilotNodeListener: node.createCopilotNodeListener,
  };
}

/** Both runtimes, CopilotKit's first. */
export async function loadRuntimes(): Promise<RuntimeImpl[]> {
  return [await loadCopilotKit(), await loadOurs()];
}

/** The `type` of every `data:` frame of an SSE body, in order. */
export function sseEventTypes(text: string): string[] {
  return types(parseSse(text));
}

/** A run request body both runtimes accept (no messages). */
export function runBody(threadId: string, runId: string): string {
  return JSON.stringify(runInput({ threadId, runId, messages: [] }));
}
