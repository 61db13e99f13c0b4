import type { HttpErrorSpec } from "../../errors.js";
import type { RequestContext } from "../../http/context.js";
import { jsonError } from "../../http/errors.js";
import type { CopilotRuntime } from "../../runtime.js";
import type { CopilotKitIntelligence } from "../copilotkit-intelligence.js";

/** A runtime in Intelligence mode, as the routes see it (the constructor set every field). */
export type IntelligenceRuntime = CopilotRuntime & {
  intelligence: CopilotKitIntelligence;
  generateThreadNames: boolean;
  lockTtlSeconds: number;
  lockHeartbeatIntervalSeconds: number;
};

/** The runtime of an Intelligence-mode request. */
export function intelligenceRuntimeOf(ctx: RequestContext): IntelligenceRuntime {
  return ctx.runtime as IntelligenceRuntime;
}

/**
 * An Intelligence-mode error answer with CopilotKit 1.75's body: `{ "error": <its text> }`, plus
 * `message` where 1.75 sends one. `status` overrides the catalogue's (platform statuses pass through).
 */
export function intelligenceError(spec: HttpErrorSpec, options: { status?: number; message?: string } = {}): Response {
  return jsonError(options.status ?? spec.status, spec.code, options.message);
}
