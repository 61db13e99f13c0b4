/**
 * The runtime entitlement the platform grants this project (`GET /api/entitlements/runtime`,
 * CopilotKit 1.75), and how `/info` reports it: `runtimeEntitlements` as received, and the
 * legacy `licenseStatus` older clients gate their thread UI on. The answer is checked as strictly
 * as 1.75's zod schema (no extra keys), so a platform that one accepts is accepted here too.
 */
import { PlatformRequestError } from "./platform-request-error.js";

export type RuntimeEntitlementSource = "managedOrgSubscription" | "selfHostedDeploymentLicense" | "awsMarketplaceDeploymentLicense";

export interface RuntimeEntitlement {
  active: boolean;
  source: RuntimeEntitlementSource;
  features: Record<string, boolean>;
  limits: Record<string, number>;
  planCode?: string;
  entitlementSource?: string;
}

export interface RuntimeEntitlementError {
  code: string;
  message: string;
  retryable: boolean;
  requestId?: string;
  traceId?: string;
}

/** What `/info.runtimeEntitlements` carries. */
export type RuntimeEntitlementResponse =
  | { status: "ready"; entitlement: RuntimeEntitlement }
  | { status: "degraded" | "misconfigured" | "unavailable"; error: RuntimeEntitlementError };

/** `/info.licenseStatus`. */
export type RuntimeLicenseStatus = "valid" | "none" | "expired" | "expiring" | "invalid" | "unknown";

const SOURCES = new Set(["managedOrgSubscription", "selfHostedDeploymentLicense", "awsMarketplaceDeploymentLicense"]);
const ENTITLEMENT_KEYS = new Set(["active", "source", "features", "limits", "planCode", "entitlementSource"]);
const ERROR_KEYS = new Set(["code", "message", "retryable", "requestId", "traceId"]);

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function onlyKeys(value: Record<string, unknown>, allowed: Set<string>): boolean {
  return Object.keys(value).every((key) => allowed.has(key));
}

function isRecordOf(value: unknown, type: "boolean" | "number"): value is Record<string, never> {
  return isRecord(value) && Object.values(value).every((entry) => typeof entry === type && (type !== "number" || Number.isFinite(entry)));
}

function optionalString(value: unknown): boolean {
  return value === undefined || typeof value === "string";
}

/** The entitlement fields, checked; `extraKeys` are allowed beside them (the legacy flat shape's). */
function parseEntitlement(value: unknown, extraKeys?: Set<string>): RuntimeEntitlement | undefined {
  if (!isRecord(value)) return undefined;
  const allowed = extraKeys === undefined ? ENTITLEMENT_KEYS : new Set([...ENTITLEMENT_KEYS, ...extraKeys]);
  if (extraKeys === undefined && !onlyKeys(value, allowed)) return undefined;
  const { active, source, features, limits, planCode, entitlementSource } = value;
  if (typeof active !== "boolean" || typeof source !== "string" || !SOURCES.has(source)) return undefined;
  if (!isRecordOf(features, "boolean") || !isRecordOf(limits, "number")) return undefined;
  if (!optionalString(planCode) || !optionalString(entitlementSource)) return undefined;
  return {
    active,
    source: source as RuntimeEntitlementSource,
    features: { ...(features as Record<string, boolean>) },
    limits: { ...(limits as Record<string, number>) },
    ...(planCode !== undefined ? { planCode: planCode as string } : {}),
    ...(entitlementSource !== undefined ? { entitlementSource: entitlementSource as string } : {}),
  };
}

function parseError(value: unknown): RuntimeEntitlementError | undefined {
  if (!isRecord(value) || !onlyKeys(value, ERROR_KEYS)) return undefined;
  const { code, message, retryable, requestId, traceId } = value;
  if (typeof code !== "string" || typeof message !== "string" || typeof retryable !== "boolean") return undefined;
  if (!optionalString(requestId) || !optionalString(traceId)) return undefined;
  return { code, message, retryable, ...(requestId !== undefined ? { requestId: requestId as string } : {}), ...(traceId !== undefined ? { traceId: traceId as string } : {}) };
}

/**
 * The platform's answer as a {@link RuntimeEntitlementResponse}, or undefined when it is
 * malformed. Accepts the published union and the legacy flat shape (`{active, source, …, organizationId}`).
 */
export function parseRuntimeEntitlementResponse(value: unknown): RuntimeEntitlementResponse | undefined {
  if (!isRecord(value)) return undefined;
  if (value.status === "ready") {
    if (!onlyKeys(value, new Set(["status", "entitlement"]))) return undefined;
    const entitlement = parseEntitlement(value.entitlement);
    return entitlement === undefined ? undefined : { status: "ready", entitlement };
  }
  if (value.status === "degraded" || value.status === "misconfigured" || value.status === "unavailable") {
    if (!onlyKeys(value, new Set(["status", "error"]))) return undefined;
    const error = parseError(value.error);
    return error === undefined ? undefined : { status: value.status, error };
  }
  // The legacy flat transport (1.75 accepts it during mixed-version rollouts); extra keys pass.
  if (typeof value.organizationId !== "string") return undefined;
  const entitlement = parseEntitlement(value, new Set(Object.keys(value)));
  return entitlement === undefined ? undefined : { status: "ready", entitlement };
}

/** Whether an HTTP status may recover by itself (1.75: 408, 425, 429, 5xx). */
export function isRetryableEntitlementStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

/**
 * What `/info` reports when the lookup failed: `misconfigured` for a failure that retrying will
 * not fix (a 404, a malformed answer), else `unavailable`. The cause is not exposed.
 */
export function entitlementLookupFailure(error: unknown): RuntimeEntitlementResponse {
  if (error instanceof PlatformRequestError && error.retryable === false) {
    return {
      status: "misconfigured",
      error: { code: "runtime_entitlements_misconfigured", message: "Runtime entitlement lookup is misconfigured", retryable: false },
    };
  }
  return {
    status: "unavailable",
    error: { code: "runtime_entitlements_unavailable", message: "Runtime entitlement lookup failed", retryable: true },
  };
}

/**
 * `/info.licenseStatus` in Intelligence mode, as 1.75 computes it. There is no offline licence
 * check here (`licenseToken` is not supported), so without an active entitlement it is `"none"`,
 * or `"unknown"` while the lookup is failing in a retryable way.
 */
export function licenseStatusOf(entitlements: RuntimeEntitlementResponse): RuntimeLicenseStatus {
  if (entitlements.status === "ready") {
    const { source, active } = entitlements.entitlement;
    if (source === "managedOrgSubscription" || source === "awsMarketplaceDeploymentLicense") return active ? "valid" : "none";
    if (active) return "valid";
    return "none";
  }
  return entitlements.error.retryable ? "unknown" : "none";
}

/** A deep-enough copy, so a caller cannot change the cached answer. */
export function cloneEntitlementResponse(response: RuntimeEntitlementResponse): RuntimeEntitlementResponse {
  if (response.status === "ready") {
    const { entitlement } = response;
    return { status: "ready", entitlement: { ...entitlement, features: { ...entitlement.features }, limits: { ...entitlement.limits } } };
  }
  return { status: response.status, error: { ...response.error } };
}
