/**
 * The Intelligence platform's socket addresses, derived from one `wsUrl` as CopilotKit 1.75 does:
 * the runner plane is `<wsUrl>/runner`, the browser plane `<wsUrl>/client`. A `wsUrl` that
 * already ends in one of the plane suffixes has it swapped, never doubled.
 */

/** CopilotKit's managed REST API, used when `apiUrl` is unset. */
export const MANAGED_INTELLIGENCE_API_URL = "https://api.intelligence.copilotkit.ai";
/** CopilotKit's managed realtime host, used when `wsUrl` is unset. */
export const MANAGED_INTELLIGENCE_WS_URL = "wss://realtime.intelligence.copilotkit.ai";

const PLANES = ["/runner", "/client", "/channels"] as const;
type Plane = (typeof PLANES)[number];

/** A configured URL, or undefined when it is missing or blank (blank counts as unset). */
export function configuredUrl(url: string | undefined): string | undefined {
  const trimmed = typeof url === "string" ? url.trim() : undefined;
  return trimmed ? trimmed : undefined;
}

/** `wsUrl` with one trailing slash removed. */
export function normalizeWsUrl(wsUrl: string): string {
  return wsUrl.replace(/\/$/, "");
}

/** The URL of one plane: the base's own plane suffix, if any, replaced by `plane`. */
export function planeUrl(wsUrl: string, plane: Plane): string {
  if (wsUrl.endsWith(plane)) return wsUrl;
  for (const other of PLANES) {
    if (wsUrl.endsWith(other)) return `${wsUrl.slice(0, -other.length)}${plane}`;
  }
  return `${wsUrl}${plane}`;
}
