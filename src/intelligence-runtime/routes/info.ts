import type { RequestContext } from "../../http/context.js";
import { jsonResponse } from "../../http/errors.js";
import { runtimeInfo } from "../../http/routes/info.js";
import { entitlementLookupFailure, licenseStatusOf } from "../entitlements.js";
import { intelligenceRuntimeOf } from "./respond.js";

/**
 * `GET /info` in Intelligence mode: the usual fields, plus where browsers reach the platform
 * (`intelligence.wsUrl`, its `/client` plane), every thread endpoint including realtime metadata,
 * and the platform's entitlement (`runtimeEntitlements`, `licenseStatus`), which unlocks
 * CopilotKit's thread UI. The entitlement lookup never fails `/info`: a failure is reported as
 * `unavailable` or `misconfigured`.
 */
export async function handleIntelligenceInfo(ctx: RequestContext): Promise<Response> {
  const { intelligence } = intelligenceRuntimeOf(ctx);
  const entitlements = intelligence.getRuntimeEntitlements().catch(entitlementLookupFailure);
  const base = await runtimeInfo(ctx);
  const runtimeEntitlements = await entitlements;
  // The single-route envelope carries no thread methods here.
  const threads = ctx.settings.mode !== "single-route";
  return jsonResponse({
    ...base,
    mode: "intelligence",
    threadEndpoints: { list: threads, inspect: threads, mutations: threads, realtimeMetadata: threads },
    intelligence: { wsUrl: intelligence.ɵgetClientWsUrl() },
    inspectorMetadata: true,
    licenseStatus: licenseStatusOf(runtimeEntitlements),
    runtimeEntitlements,
  });
}
