import { logger } from "../logger.js";
import {
  type RuntimeEntitlementResponse,
  cloneEntitlementResponse,
  isRetryableEntitlementStatus,
  parseRuntimeEntitlementResponse,
} from "./entitlements.js";
import { type InProcessIntelligencePlatform, type InProcessWebSocketClass, createInProcessPhoenixTransport } from "./in-process-transport.js";
import { PlatformRequestError, platformErrorStatus } from "./platform-request-error.js";
import type {
  AcquireThreadLockRequest,
  AcquireThreadLockResponse,
  CreateThreadRequest,
  ListThreadsResponse,
  PlatformThreadSummary,
  RenewThreadLockRequest,
  ThreadConnectionResponse,
  ThreadDeletedPayload,
  ThreadEventsResponse,
  ThreadMessagesResponse,
  ThreadStateResponse,
  UpdateThreadRequest,
} from "./platform-types.js";
import { MANAGED_INTELLIGENCE_API_URL, MANAGED_INTELLIGENCE_WS_URL, configuredUrl, normalizeWsUrl, planeUrl } from "./ws-urls.js";

/** 1.75's bounds for the entitlement lookup behind `/info`. */
const ENTITLEMENTS_TIMEOUT_MS = 1_500;
const ENTITLEMENTS_ACTIVE_TTL_MS = 30_000;
const ENTITLEMENTS_NEGATIVE_TTL_MS = 5_000;
/** The origin of REST request URLs handed to an in-process platform (never resolved: `.invalid` cannot be). */
const IN_PROCESS_API_URL = "http://in-process.invalid";

export interface CopilotKitIntelligenceConfig {
  /** The platform's REST API. Default: CopilotKit's managed one. Set it together with `wsUrl`. */
  apiUrl?: string;
  /**
   * The platform's realtime base; the runner socket is `<wsUrl>/runner`, the browser's
   * `<wsUrl>/client`. Default: CopilotKit's managed one. Set it together with `apiUrl`.
   */
  wsUrl?: string;
  /** The project's API key (`cpk-<projectId>_<secret>`); required, never blank. */
  apiKey: string;
  /**
   * A platform in this process (`createIntelligencePlatform()` from `copilot-runtime/intelligence`):
   * REST calls go to its fetch handler and the runner's sockets open on it directly, with no
   * network hop (the API key is still presented and checked). `wsUrl` is then required: it is
   * the public address browsers open `<wsUrl>/client` at. `apiUrl` is not needed.
   */
  platform?: InProcessIntelligencePlatform;
  /** Called after the runtime created a thread. Prefer `onThreadCreated()` for several listeners. */
  onThreadCreated?: (thread: PlatformThreadSummary) => void;
  /** Called after a thread was renamed or archived. */
  onThreadUpdated?: (thread: PlatformThreadSummary) => void;
  /** Called after a thread was deleted. */
  onThreadDeleted?: (params: ThreadDeletedPayload) => void;
}

/**
 * The client of an Intelligence platform's REST API (CopilotKit's `CopilotKitIntelligence`, same
 * options and calls): threads, locks, history and entitlements, each a JSON call with
 * `Authorization: Bearer <apiKey>`; a non-2xx answer throws {@link PlatformRequestError}.
 * Pass it to `CopilotRuntime` to serve runs in Intelligence mode.
 *
 * @example
 * ```ts
 * const intelligence = new CopilotKitIntelligence({
 *   apiUrl: "https://intelligence.example.com",
 *   wsUrl: "wss://realtime.example.com",
 *   apiKey: process.env.CPK_INTELLIGENCE_API_KEY!,
 * });
 * const runtime = new CopilotRuntime({ agents, intelligence, identifyUser: (req) => ({ id: "u1", name: "Ada" }) });
 * ```
 *
 * @example Our platform in the same process (no network hop between runtime and platform)
 * ```ts
 * import { createIntelligencePlatform } from "copilot-runtime/intelligence";
 * const platform = createIntelligencePlatform({ store, apiKeys: [apiKey], tokenSecret });
 * const intelligence = new CopilotKitIntelligence({ platform, wsUrl: "wss://app.example.com", apiKey });
 * // Browsers still open wss://app.example.com/client: serve platform.fetch and platform.handleUpgrade there.
 * ```
 */
export class CopilotKitIntelligence {
  readonly #apiUrl: string;
  readonly #runnerWsUrl: string;
  readonly #clientWsUrl: string;
  readonly #channelsWsUrl: string;
  readonly #apiKey: string;
  /** Where REST calls go: the global fetch, or the in-process platform's handler. */
  readonly #fetch: (url: string, init: RequestInit) => Promise<Response>;
  readonly #runnerTransport: InProcessWebSocketClass | undefined;
  readonly #created = new Set<(thread: PlatformThreadSummary) => void>();
  readonly #updated = new Set<(thread: PlatformThreadSummary) => void>();
  readonly #deleted = new Set<(params: ThreadDeletedPayload) => void>();
  #entitlements?: { response: RuntimeEntitlementResponse; expiresAt: number };
  #entitlementsFailure?: { error: unknown; expiresAt: number };
  #entitlementsInFlight?: Promise<RuntimeEntitlementResponse>;

  constructor(config: CopilotKitIntelligenceConfig) {
    if (config === null || typeof config !== "object") throw new TypeError("CopilotKitIntelligence needs a config object with `apiKey`.");
    if (typeof config.apiKey !== "string" || config.apiKey.trim() === "") {
      // The key is a secret: name where it normally comes from, echo none of it.
      throw new Error(
        "CopilotKitIntelligence `apiKey` is required and cannot be blank. It is the Intelligence project API key, normally read from the CPK_INTELLIGENCE_API_KEY environment variable.",
      );
    }
    for (const option of ["getLearningContainerId", "enableEnterpriseLearning"] as const) {
      if ((config as unknown as Record<string, unknown>)[option] !== undefined) {
        logger.warn({ option }, `CopilotKitIntelligence: option "${option}" is not supported and is ignored: Intelligence Learning is not implemented yet.`);
      }
    }
    const apiUrl = configuredUrl(config.apiUrl);
    const wsUrl = configuredUrl(config.wsUrl);
    const platform = config.platform;
    if (platform !== undefined) {
      checkInProcessPlatform(platform, wsUrl);
      this.#fetch = (url, init) => platform.fetch(new Request(url, init));
      this.#runnerTransport = createInProcessPhoenixTransport(platform, "runner");
    } else {
      warnOnPartialOverride(apiUrl, wsUrl);
      this.#fetch = (url, init) => fetch(url, init);
      this.#runnerTransport = undefined;
    }
    const base = normalizeWsUrl(wsUrl ?? MANAGED_INTELLIGENCE_WS_URL);
    this.#apiUrl = (apiUrl ?? (platform !== undefined ? IN_PROCESS_API_URL : MANAGED_INTELLIGENCE_API_URL)).replace(/\/$/, "");
    this.#runnerWsUrl = planeUrl(base, "/runner");
    this.#clientWsUrl = planeUrl(base, "/client");
    this.#channelsWsUrl = planeUrl(base, "/channels");
    this.#apiKey = config.apiKey;
    if (config.onThreadCreated) this.onThreadCreated(config.onThreadCreated);
    if (config.onThreadUpdated) this.onThreadUpdated(config.onThreadUpdated);
    if (config.onThreadDeleted) this.onThreadDeleted(config.onThreadDeleted);
  }

  /** Adds a listener for created threads; returns its remover. */
  onThreadCreated(callback: (thread: PlatformThreadSummary) => void): () => void {
    this.#created.add(callback);
    return () => void this.#created.delete(callback);
  }

  /** Adds a listener for updated (renamed, archived) threads; returns its remover. */
  onThreadUpdated(callback: (thread: PlatformThreadSummary) => void): () => void {
    this.#updated.add(callback);
    return () => void this.#updated.delete(callback);
  }

  /** Adds a listener for deleted threads; returns its remover. */
  onThreadDeleted(callback: (params: ThreadDeletedPayload) => void): () => void {
    this.#deleted.add(callback);
    return () => void this.#deleted.delete(callback);
  }

  ɵgetApiUrl(): string {
    return this.#apiUrl;
  }

  ɵgetRunnerWsUrl(): string {
    return this.#runnerWsUrl;
  }

  ɵgetClientWsUrl(): string {
    return this.#clientWsUrl;
  }

  ɵgetChannelsWsUrl(): string {
    return this.#channelsWsUrl;
  }

  /**
   * The socket class the runner must use: the in-process one with `platform`, else undefined
   * (the runner picks WebSocket or long-poll itself).
   */
  ɵgetRunnerTransport(): InProcessWebSocketClass | undefined {
    return this.#runnerTransport;
  }

  ɵgetRunnerAuthToken(): string {
    return this.#apiKey;
  }

  ɵgetApiKey(): string {
    return this.#apiKey;
  }

  /** `GET /api/threads`: one user's threads of one agent. */
  listThreads(params: { userId: string; agentId: string; includeArchived?: boolean; limit?: number; cursor?: string }): Promise<ListThreadsResponse> {
    const query = new URLSearchParams({ userId: params.userId, agentId: params.agentId });
    if (params.includeArchived) query.set("includeArchived", "true");
    if (params.limit !== undefined && params.limit !== null) query.set("limit", String(params.limit));
    if (params.cursor) query.set("cursor", params.cursor);
    return this.#request("GET", `/api/threads?${query}`);
  }

  /** `GET /api/threads/:id?userId=`: 404 when the thread is not this user's. */
  async getThread(params: { threadId: string; userId: string }): Promise<PlatformThreadSummary> {
    const query = new URLSearchParams({ userId: params.userId });
    const response = await this.#request<{ thread: PlatformThreadSummary }>("GET", `${threadPath(params.threadId)}?${query}`);
    return response.thread;
  }

  /** `POST /api/threads`. */
  async createThread(params: CreateThreadRequest): Promise<PlatformThreadSummary> {
    const response = await this.#request<{ thread: PlatformThreadSummary }>("POST", "/api/threads", {
      threadId: params.threadId,
      userId: params.userId,
      agentId: params.agentId,
      ...(params.name !== undefined ? { name: params.name } : {}),
      ...(params.learningContainerId !== undefined ? { learningContainerId: params.learningContainerId } : {}),
    });
    this.#notify(this.#created, response.thread, "onThreadCreated");
    return response.thread;
  }

  /**
   * The thread, created when the platform does not know it (404). A 409 on create means another
   * request created it in between: it is read again.
   */
  async getOrCreateThread(params: CreateThreadRequest): Promise<{ thread: PlatformThreadSummary; created: boolean }> {
    try {
      return { thread: await this.getThread(params), created: false };
    } catch (error) {
      if (platformErrorStatus(error) !== 404 || !(error instanceof PlatformRequestError)) throw error;
    }
    try {
      return { thread: await this.createThread(params), created: true };
    } catch (error) {
      if (!(error instanceof PlatformRequestError && error.status === 409)) throw error;
      return { thread: await this.getThread(params), created: false };
    }
  }

  /** `PATCH /api/threads/:id`; the platform must answer `{ thread }`. */
  async updateThread(params: { threadId: string; userId: string; agentId: string; updates: UpdateThreadRequest }): Promise<PlatformThreadSummary> {
    const response = await this.#request<{ thread: PlatformThreadSummary }>("PATCH", threadPath(params.threadId), {
      userId: params.userId,
      agentId: params.agentId,
      ...params.updates,
    });
    this.#notify(this.#updated, response.thread, "onThreadUpdated");
    return response.thread;
  }

  /** `PATCH /api/threads/:id` with `archived: true`. */
  async archiveThread(params: { threadId: string; userId: string; agentId: string }): Promise<void> {
    const response = await this.#request<{ thread: PlatformThreadSummary }>("PATCH", threadPath(params.threadId), {
      userId: params.userId,
      agentId: params.agentId,
      archived: true,
    });
    this.#notify(this.#updated, response.thread, "onThreadUpdated");
  }

  /** `DELETE /api/threads/:id`. */
  async deleteThread(params: { threadId: string; userId: string; agentId: string }): Promise<void> {
    await this.#request("DELETE", threadPath(params.threadId), {
      userId: params.userId,
      agentId: params.agentId,
      reason: `Deleted via CopilotKit runtime (userId=${params.userId}, agentId=${params.agentId})`,
    });
    this.#notify(this.#deleted, { threadId: params.threadId, userId: params.userId, agentId: params.agentId }, "onThreadDeleted");
  }

  /** `GET /api/threads/:id/messages?userId=`: the thread's messages, oldest first. */
  getThreadMessages(params: { threadId: string; userId: string }): Promise<ThreadMessagesResponse> {
    const query = new URLSearchParams({ userId: params.userId });
    return this.#request("GET", `${threadPath(params.threadId)}/messages?${query}`);
  }

  /** `GET /api/_inspect/threads/:id/events` (the inspector's view; no user scope). */
  getThreadEvents(params: { threadId: string }): Promise<ThreadEventsResponse> {
    return this.#request("GET", `/api/_inspect/threads/${encodeURIComponent(params.threadId)}/events`);
  }

  /** `GET /api/_inspect/threads/:id/state`. */
  getThreadState(params: { threadId: string }): Promise<ThreadStateResponse> {
    return this.#request("GET", `/api/_inspect/threads/${encodeURIComponent(params.threadId)}/state`);
  }

  /** `POST /api/threads/subscribe`: a token for the user's realtime thread list. */
  ɵsubscribeToThreads(params: { userId: string }): Promise<{ joinToken: string }> {
    return this.#request("POST", "/api/threads/subscribe", { userId: params.userId });
  }

  /** `POST /api/threads/:id/lock`: 409 when another run holds the thread. */
  ɵacquireThreadLock(params: AcquireThreadLockRequest): Promise<AcquireThreadLockResponse> {
    return this.#request("POST", `${threadPath(params.threadId)}/lock`, {
      runId: params.runId,
      userId: params.userId,
      agentId: params.agentId,
      ...(params.learningContainerId !== undefined ? { learningContainerId: params.learningContainerId } : {}),
      ...(params.lockKeyPrefix !== undefined ? { lockKeyPrefix: params.lockKeyPrefix } : {}),
      ...(params.ttlSeconds !== undefined ? { ttlSeconds: params.ttlSeconds } : {}),
    });
  }

  /** `PATCH /api/threads/:id/lock`: the heartbeat that keeps a run's lock. */
  ɵrenewThreadLock(params: RenewThreadLockRequest): Promise<{ ttlSeconds: number }> {
    return this.#request("PATCH", `${threadPath(params.threadId)}/lock`, {
      runId: params.runId,
      ttlSeconds: params.ttlSeconds,
      ...(params.lockKeyPrefix !== undefined ? { lockKeyPrefix: params.lockKeyPrefix } : {}),
    });
  }

  /** `DELETE /api/threads/:id/lock`: frees the lock of a run that failed (success frees it on the platform). */
  async ɵcleanupThreadLock(params: { threadId: string; runId: string }): Promise<void> {
    await this.#request("DELETE", `${threadPath(params.threadId)}/lock`, { runId: params.runId });
  }

  /** `POST /api/threads/:id/connect`: credentials to replay the thread, or null (204) when there is nothing. */
  async ɵconnectThread(params: { threadId: string; userId: string; agentId: string }): Promise<ThreadConnectionResponse | null> {
    const result = await this.#request<ThreadConnectionResponse | undefined>("POST", `${threadPath(params.threadId)}/connect`, {
      userId: params.userId,
      agentId: params.agentId,
    });
    return result ?? null;
  }

  /**
   * `GET /api/entitlements/runtime`, bounded to 1.5 s. Concurrent calls share one request; an
   * active grant is kept 30 s, anything else (inactive, failures) 5 s. Callers get copies.
   */
  async getRuntimeEntitlements(): Promise<RuntimeEntitlementResponse> {
    const now = Date.now();
    if (this.#entitlements !== undefined && now < this.#entitlements.expiresAt) return cloneEntitlementResponse(this.#entitlements.response);
    if (this.#entitlementsFailure !== undefined && now < this.#entitlementsFailure.expiresAt) throw this.#entitlementsFailure.error;
    const request =
      this.#entitlementsInFlight ??
      this.#fetchEntitlements().then(
        (response) => {
          this.#entitlementsFailure = undefined;
          const active = response.status === "ready" && response.entitlement.active;
          this.#entitlements = { response, expiresAt: Date.now() + (active ? ENTITLEMENTS_ACTIVE_TTL_MS : ENTITLEMENTS_NEGATIVE_TTL_MS) };
          return response;
        },
        (error: unknown) => {
          this.#entitlementsFailure = { error, expiresAt: Date.now() + ENTITLEMENTS_NEGATIVE_TTL_MS };
          throw error;
        },
      );
    this.#entitlementsInFlight = request;
    try {
      return cloneEntitlementResponse(await request);
    } finally {
      if (this.#entitlementsInFlight === request) this.#entitlementsInFlight = undefined;
    }
  }

  async #fetchEntitlements(): Promise<RuntimeEntitlementResponse> {
    const path = "/api/entitlements/runtime";
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), ENTITLEMENTS_TIMEOUT_MS);
    try {
      const response = await this.#fetch(`${this.#apiUrl}${path}`, { method: "GET", headers: this.#headers(), signal: controller.signal });
      if (!response.ok) {
        await response.body?.cancel().catch(() => undefined);
        logger.error({ status: response.status, path }, "Runtime entitlement request failed");
        throw new PlatformRequestError(`Runtime entitlement request failed with status ${response.status}`, response.status, isRetryableEntitlementStatus(response.status));
      }
      let payload: unknown;
      try {
        payload = await response.json();
      } catch (error) {
        if (controller.signal.aborted) throw error;
        throw new PlatformRequestError("Runtime entitlement response was malformed", 502, false);
      }
      const parsed = parseRuntimeEntitlementResponse(payload);
      if (parsed === undefined) throw new PlatformRequestError("Runtime entitlement response was malformed", 502, false);
      return parsed;
    } catch (error) {
      if (error instanceof PlatformRequestError) throw error;
      if (controller.signal.aborted) throw new PlatformRequestError("Runtime entitlement request timed out", 504, true);
      throw new PlatformRequestError("Runtime entitlement request failed", 502, true);
    } finally {
      clearTimeout(timer);
    }
  }

  #headers(): Record<string, string> {
    return { Authorization: `Bearer ${this.#apiKey}`, "Content-Type": "application/json" };
  }

  /**
   * One REST call: JSON in and out, no retries, no timeout (as 1.75). An empty 2xx body is
   * `undefined`; a non-2xx throws {@link PlatformRequestError} (the body is logged, not thrown).
   */
  async #request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.#fetch(`${this.#apiUrl}${path}`, {
      method,
      headers: this.#headers(),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) {
      const text = await response.text().catch(() => "");
      const fields = { status: response.status, body: text, path: path.split("?")[0] };
      // A 404 for a thread looked up by id is how a new thread is found out (it is created next): not an error.
      if (response.status === 404 && method === "GET" && /^\/api\/threads\/[^/?]+(\?|$)/.test(path)) logger.debug?.(fields, "Intelligence platform: no such thread yet");
      else logger.error(fields, "Intelligence platform request failed");
      throw new PlatformRequestError(`Intelligence platform error ${response.status}: ${text || response.statusText}`, response.status);
    }
    const text = await response.text();
    return (text === "" ? undefined : JSON.parse(text)) as T;
  }

  #notify<P>(listeners: Set<(payload: P) => void>, payload: P, name: string): void {
    for (const listener of listeners) {
      try {
        listener(payload);
      } catch (error) {
        logger.error({ err: error, callbackName: name }, "Intelligence lifecycle callback failed");
      }
    }
  }
}

function threadPath(threadId: string): string {
  return `/api/threads/${encodeURIComponent(threadId)}`;
}

/** `platform` must be one, and browsers still need the platform's public socket address. */
function checkInProcessPlatform(platform: unknown, wsUrl: string | undefined): void {
  const candidate = platform as Partial<InProcessIntelligencePlatform> | null;
  if (candidate === null || typeof candidate !== "object" || typeof candidate.fetch !== "function" || typeof candidate.connectInProcess !== "function") {
    throw new TypeError("CopilotKitIntelligence `platform` must be an Intelligence platform in this process (createIntelligencePlatform() from copilot-runtime/intelligence).");
  }
  if (wsUrl === undefined) {
    throw new TypeError(
      "CopilotKitIntelligence with `platform` still needs `wsUrl`: the platform's public realtime address, where browsers open <wsUrl>/client (e.g. wss://app.example.com).",
    );
  }
}

/** Setting one plane only leaves the other on CopilotKit's managed cloud: worth a warning. */
function warnOnPartialOverride(apiUrl: string | undefined, wsUrl: string | undefined): void {
  if (apiUrl !== undefined && wsUrl === undefined) {
    logger.warn({ apiUrl }, `CopilotKitIntelligence: apiUrl is set but wsUrl is not, so wsUrl falls back to the managed default "${MANAGED_INTELLIGENCE_WS_URL}". Set both for a self-hosted platform.`);
  } else if (wsUrl !== undefined && apiUrl === undefined) {
    logger.warn({ wsUrl }, `CopilotKitIntelligence: wsUrl is set but apiUrl is not, so apiUrl falls back to the managed default "${MANAGED_INTELLIGENCE_API_URL}". Set both for a self-hosted platform.`);
  }
}
