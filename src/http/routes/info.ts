import { isA2UIEnabled } from "../../genui/options.js";
import { VERSION } from "../../version.js";
import type { RequestContext } from "../context.js";
import { jsonResponse } from "../errors.js";

/**
 * `GET /info`: the 1.54.1 fields plus the ones current clients read. Thread endpoints are
 * advertised when the runner implements the thread queries (and never in single-route mode,
 * where the envelope has no thread methods).
 */
export async function handleInfo(ctx: RequestContext): Promise<Response> {
  return jsonResponse(await runtimeInfo(ctx));
}

/** The `/info` body; Intelligence mode (src/intelligence-runtime/routes/info.ts) builds on it. */
export async function runtimeInfo(ctx: RequestContext): Promise<Record<string, unknown>> {
  const agents = await ctx.agents();
  const runner = ctx.runtime.runner;
  const singleRoute = ctx.settings.mode === "single-route";
  const listable = !singleRoute && typeof runner.listThreads === "function";
  const inspectable = !singleRoute && typeof runner.getThreadMessages === "function";
  const mutable = !singleRoute && typeof runner.updateThread === "function" && typeof runner.deleteThread === "function";

  const entries = await Promise.all(
    Object.entries(agents).map(async ([id, agent]) => {
      const info: Record<string, unknown> = {
        name: id,
        description: typeof agent.description === "string" ? agent.description : "",
        className: agent.constructor?.name ?? "Agent",
      };
      if (typeof agent.getCapabilities === "function") {
        try {
          const capabilities = await agent.getCapabilities();
          if (capabilities !== undefined && capabilities !== null) info.capabilities = capabilities;
        } catch (error) {
          ctx.log.warn({ err: error, agentId: id }, `agent '${id}' getCapabilities() failed; omitted from /info`);
        }
      }
      return [id, info] as const;
    }),
  );

  const a2ui = ctx.runtime.a2ui;
  return {
    version: VERSION,
    agents: Object.fromEntries(entries),
    audioFileTranscriptionEnabled: ctx.runtime.transcriptionService !== undefined,
    mode: "sse",
    a2uiEnabled: isA2UIEnabled(a2ui),
    // Which agents the client should mount the A2UI renderer for (CopilotKit 1.75's shape).
    ...(isA2UIEnabled(a2ui) ? { a2ui: { enabled: true, ...(a2ui.agents ? { agents: a2ui.agents } : {}) } } : {}),
    threadEndpoints: { list: listable, inspect: inspectable, mutations: mutable, realtimeMetadata: false },
    suggestions: true,
    openGenerativeUIEnabled: !!ctx.runtime.openGenerativeUI,
    telemetryDisabled: true,
  };
}
