export type RouteName =
  | "info"
  | "run"
  | "connect"
  | "stop"
  | "suggest"
  | "transcribe"
  | "threads/list"
  | "threads/clear"
  | "threads/subscribe"
  | "thread"
  | "thread/archive"
  | "thread/messages"
  | "thread/events"
  | "thread/state"
  | "inspector-metadata"
  | "cpk-debug-events";

interface RoutePattern {
  name: RouteName;
  segments: string[]; // ":name" marks a parameter
  methods: string[];
}

/** One segment of a pattern: a literal to compare, or the name of a parameter. */
interface CompiledSegment {
  literal?: string;
  param?: string;
}

const ROUTES: RoutePattern[] = [
  { name: "info", segments: ["info"], methods: ["GET"] },
  { name: "run", segments: ["agent", ":agentId", "run"], methods: ["POST"] },
  { name: "connect", segments: ["agent", ":agentId", "connect"], methods: ["POST"] },
  { name: "stop", segments: ["agent", ":agentId", "stop", ":threadId"], methods: ["POST"] },
  { name: "suggest", segments: ["agent", ":agentId", "suggest"], methods: ["POST"] },
  { name: "transcribe", segments: ["transcribe"], methods: ["POST"] },
  { name: "threads/list", segments: ["threads"], methods: ["GET"] },
  { name: "threads/clear", segments: ["threads", "clear"], methods: ["POST"] },
  { name: "threads/subscribe", segments: ["threads", "subscribe"], methods: ["POST"] },
  { name: "thread/archive", segments: ["threads", ":threadId", "archive"], methods: ["POST"] },
  { name: "thread/messages", segments: ["threads", ":threadId", "messages"], methods: ["GET"] },
  { name: "thread/events", segments: ["threads", ":threadId", "events"], methods: ["GET"] },
  { name: "thread/state", segments: ["threads", ":threadId", "state"], methods: ["GET"] },
  { name: "thread", segments: ["threads", ":threadId"], methods: ["PATCH", "DELETE"] },
  { name: "inspector-metadata", segments: ["inspector-metadata"], methods: ["GET"] },
  { name: "cpk-debug-events", segments: ["cpk-debug-events"], methods: ["GET"] },
];

// HEAD is served wherever GET is (the GET answer's headers, no body), and listed in `Allow`.
const PATTERNS = ROUTES.map((route) => ({
  ...route,
  methods: route.methods.includes("GET") ? [...route.methods, "HEAD"] : route.methods,
  compiled: route.segments.map((segment): CompiledSegment => (segment.startsWith(":") ? { param: segment.slice(1) } : { literal: segment })),
}));

export type RouteMatch =
  | { kind: "route"; name: RouteName; params: Record<string, string> }
  /** The path is a route's, the method is not: `name` and `params` are the first such route's. */
  | { kind: "method-not-allowed"; allow: string[]; name: RouteName; params: Record<string, string> }
  | { kind: "root" }
  | { kind: "not-found" };

/** Normalises a base path: leading slash, no trailing slash; `""` means "no base path". */
export function normalizeBasePath(basePath: string | undefined): string {
  if (basePath === undefined || basePath === "" || basePath === "/") return "";
  const withSlash = basePath.startsWith("/") ? basePath : `/${basePath}`;
  return withSlash.replace(/\/+$/, "");
}

/**
 * Matches a pathname against the contract's routes. With a base path the prefix must match
 * exactly (on a segment boundary); without one, routes match the end of the path, so the
 * runtime works wherever a framework mounts it. A trailing slash is ignored.
 */
export function matchRoute(method: string, pathname: string, basePath: string): RouteMatch {
  let rest: string;
  if (basePath !== "") {
    if (pathname !== basePath && !pathname.startsWith(`${basePath}/`)) return { kind: "not-found" };
    rest = pathname.slice(basePath.length);
  } else {
    rest = pathname;
  }
  const raw = rest.split("/").filter((segment) => segment !== "");
  if (raw.length === 0) return { kind: "root" };
  let segments: string[];
  try {
    segments = raw.map((segment) => (segment.includes("%") ? decodeURIComponent(segment) : segment));
  } catch {
    return { kind: "not-found" };
  }

  let refused: { kind: "method-not-allowed"; allow: string[]; name: RouteName; params: Record<string, string> } | undefined;
  for (const pattern of PATTERNS) {
    const offset = basePath === "" ? segments.length - pattern.segments.length : 0;
    if (offset < 0 || (basePath !== "" && segments.length !== pattern.segments.length)) continue;
    const params = matchSegments(pattern.compiled, segments, offset);
    if (params === undefined) continue;
    if (!pattern.methods.includes(method)) {
      refused ??= { kind: "method-not-allowed", allow: pattern.methods, name: pattern.name, params };
      continue;
    }
    return { kind: "route", name: pattern.name, params };
  }
  return refused ?? { kind: "not-found" };
}

function matchSegments(pattern: CompiledSegment[], segments: string[], offset: number): Record<string, string> | undefined {
  // Literals first, so a pattern that does not match allocates nothing.
  for (let i = 0; i < pattern.length; i++) {
    const { literal } = pattern[i];
    if (literal !== undefined && literal !== segments[offset + i]) return undefined;
  }
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const { param } = pattern[i];
    if (param === undefined) continue;
    const actual = segments[offset + i];
    if (actual === "") return undefined;
    params[param] = actual;
  }
  return params;
}
