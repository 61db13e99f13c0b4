/**
 * The one catalogue of what the runtime answers when something goes wrong: every HTTP error
 * (status, stable `error` code, when it happens) and every `RUN_ERROR` code a stream can end with.
 * Routes build their errors from it (`httpError(HTTP_ERRORS.threadNotFound, ...)`), and the README's
 * error table is generated from it (`npm run docs:errors`; a test fails when the two differ).
 * Where CopilotKit's contract fixes an `error` string ("Agent not found", "Not found", ...), the
 * catalogue keeps it byte for byte.
 */
import { HttpError, jsonError } from "./http/errors.js";
import { TRANSCRIPTION_ERROR_STATUS } from "./transcription/errors.js";

export interface HttpErrorSpec {
  readonly status: number;
  /** The stable `error` field of the JSON body. */
  readonly code: string;
  /** When a client gets it, for the README. */
  readonly when: string;
}

const spec = (status: number, code: string, when: string): HttpErrorSpec => Object.freeze({ status, code, when });

export const HTTP_ERRORS = Object.freeze({
  invalidJson: spec(400, "invalid_json", "a thread route's body is empty or not JSON"),
  invalidRunInput: spec(
    400,
    "Invalid request body",
    "an agent route's body is malformed JSON or not a `RunAgentInput`, or an id or name in it breaks the [limits](#configuration) (`message` and `details` name the first problem)",
  ),
  jsonTooDeep: spec(400, "json_too_deep", "a body nests arrays and objects deeper than `limits.maxJsonDepth` (`limit` gives it)"),
  invalidParameter: spec(400, "invalid_parameter", "a path id (agent, thread) is over `limits.maxIdLength` or holds NUL (`parameter` names it)"),
  bodyReadFailed: spec(400, "body_read_failed", "the request body could not be read (the client went away mid-upload)"),
  badRequest: spec(400, "bad_request", "not parseable as HTTP: a malformed request line or header (`applyServerLimits`, `serve`; `message` names the parser's code)"),
  invalidEnvelope: spec(400, "invalid_request", "a malformed single-route envelope, or a request URL or headers the server cannot read (CopilotKit's messages)"),
  invalidAgentId: spec(400, "invalid_agent_id", "`GET /threads?agentId=` is not a valid agent id"),
  invalidLimit: spec(400, "invalid_limit", "`GET /threads?limit=` is not an integer from 1 to 200"),
  invalidCursor: spec(400, "invalid_cursor", "`GET /threads?cursor=` is not a cursor this server issued"),
  invalidName: spec(400, "invalid_name", "a thread name is not a string of at most 500 characters (no NUL, no lone surrogate) or null"),
  invalidArchived: spec(400, "invalid_archived", "`archived` is not a boolean"),
  unauthenticated: spec(401, "unauthenticated", "`identifyUser` returned no id (every route that reads threads or does work, directly or through the envelope)"),
  agentNotFound: spec(404, "Agent not found", "unknown agent id (`message`: `Agent '<id>' does not exist`)"),
  notFound: spec(404, "Not found", "unknown path"),
  threadNotFound: spec(404, "thread_not_found", "no such thread for this caller (another user's thread answers the same)"),
  methodNotAllowed: spec(405, "Method not allowed", "wrong method (the `Allow` header lists the right ones)"),
  requestTimeout: spec(408, "request_timeout", "the request (headers and body) did not arrive within `requestTimeoutMs` (`applyServerLimits`, `serve`)"),
  threadBusy: spec(409, "thread_busy", "the thread already has an active run (`retryable: true`)"),
  threadAgentMismatch: spec(409, "thread_agent_mismatch", "the thread belongs to another agent"),
  payloadTooLarge: spec(413, "payload_too_large", "body over `maxBodyBytes` (`limit` gives it)"),
  chunkExtensionsTooLarge: spec(413, "payload_too_large", "chunk extensions over Node's limit (`applyServerLimits`, `serve`)"),
  unsupportedMediaType: spec(415, "invalid_request", "the single-route envelope is not JSON"),
  threadsNotSupported: spec(422, "threads_not_supported", "the configured runner has no thread queries"),
  tooManyStreams: spec(
    429,
    "too_many_streams",
    "more event streams open than `limits.maxStreams` or, for one user, `limits.maxStreamsPerUser` (`limit`, `scope`, `Retry-After`)",
  ),
  requestHeaderTooLarge: spec(431, "request_header_too_large", "headers over Node's limit (`applyServerLimits`, `serve`)"),
  agentFactoryFailed: spec(500, "agent_factory_failed", "the agents factory threw (logged)"),
  identifyUserFailed: spec(500, "identify_user_failed", "`identifyUser` threw (logged)"),
  missingDependency: spec(
    500,
    "missing_dependency",
    "a run needs a middleware package that is not installed (`a2ui`, `mcpApps`, `openGenerativeUI`; `message` gives the install command, `packageName` the package)",
  ),
  runFailed: spec(500, "Failed to run agent", "the runner refused a run for an unexpected reason (logged)"),
  stopFailed: spec(500, "Failed to stop agent", "the runner failed to stop a run (logged)"),
  internalError: spec(500, "internal_error", "any other server-side failure (logged)"),
  storeUnavailable: spec(503, "store_unavailable", "the thread store stayed busy or unreachable through the runner's retries; the run was not started (`retryable: true`, `Retry-After`)"),
  notSupported: spec(501, "not_supported", "`POST /threads/subscribe`: realtime thread metadata needs Intelligence mode"),
  // Intelligence mode (`new CopilotRuntime({ intelligence })`): CopilotKit 1.75's bodies, byte for byte.
  intelligenceInvalidUserId: spec(400, "identifyUser must return a valid user id", "Intelligence mode: `identifyUser` returned no id, or one that is not 1-128 of `[A-Za-z0-9_.@:=-]`"),
  intelligenceInvalidUserName: spec(400, "identifyUser must return a valid user name", "Intelligence mode: `identifyUser` returned no `name` (Intelligence needs one)"),
  intelligenceIdentifyFailed: spec(500, "Failed to identify user", "Intelligence mode: `identifyUser` threw (logged)"),
  intelligenceAgentIdRequired: spec(400, "Valid agentId is required", "Intelligence mode: a thread mutation's body has no valid `agentId`"),
  intelligenceAgentIdQueryRequired: spec(400, "Valid agentId query param is required", "Intelligence mode: `GET /threads` without a valid `agentId`"),
  intelligenceInvalidStop: spec(400, "Invalid stop request", "Intelligence mode: a stop body that is not `{}` or `{ runId }`"),
  intelligenceInvalidRunId: spec(400, "Invalid runId", "Intelligence mode: a stop body's `runId` is not a non-blank string"),
  intelligenceThreadAccessDenied: spec(403, "Thread access denied", "Intelligence mode, stop: the thread belongs to another agent (403), or the platform refused it (its 4xx; 502 otherwise)"),
  intelligenceThreadInitFailed: spec(502, "Failed to initialize thread", "Intelligence mode, run: the platform could not get or create the thread (its 4xx, else 502)"),
  intelligenceLockDenied: spec(409, "Thread lock denied", "Intelligence mode, run: another run holds the thread (409), or the lock call failed otherwise (502)"),
  intelligenceConnectRejected: spec(404, "Connect request rejected", "Intelligence mode, connect: the platform answered 400, 401, 403, 404 or 409 (that status; `message`)"),
  intelligenceConnectFailed: spec(502, "Connect request failed", "Intelligence mode, connect: the platform answered another error status (passed through) or could not be reached (502)"),
  intelligenceCredentialsUnavailable: spec(502, "Run connection credentials not available", "Intelligence mode, run: the lock answer lacked `threadId`, `runId` or `joinToken` (the lock is released)"),
  intelligenceHistoryFailed: spec(502, "Thread history lookup failed", "Intelligence mode, run: the thread's messages could not be read (the lock is released)"),
  intelligenceRunnerFailed: spec(502, "Failed to start runner", "Intelligence mode, run: the runner socket could not join the run's channel, or the runner refused the run (`message`; the lock is released)"),
  intelligenceInvalidThread: spec(502, "Invalid thread response", "Intelligence mode, stop: the platform's thread answer had no id"),
  intelligenceListFailed: spec(500, "Failed to list threads", "Intelligence mode: the platform's thread list failed (logged)"),
  intelligenceSubscribeFailed: spec(500, "Failed to subscribe to threads", "Intelligence mode: the platform's thread subscription failed (logged)"),
  intelligenceUpdateFailed: spec(500, "Failed to update thread", "Intelligence mode: the platform's rename or archive state change failed (logged)"),
  intelligenceArchiveFailed: spec(500, "Failed to archive thread", "Intelligence mode: the platform's archive failed (logged)"),
  intelligenceDeleteFailed: spec(500, "Failed to delete thread", "Intelligence mode: the platform's delete failed (logged)"),
  intelligenceMessagesFailed: spec(500, "Failed to fetch thread messages", "Intelligence mode: the platform's history failed (logged)"),
  intelligenceEventsFailed: spec(500, "Failed to fetch thread events", "Intelligence mode: the platform's inspector events failed (logged)"),
  intelligenceStateFailed: spec(500, "Failed to fetch thread state", "Intelligence mode: the platform's inspector state failed (logged)"),
  shuttingDown: spec(503, "shutting_down", "`serve` only: a request arrived after SIGTERM or SIGINT, while open runs finish (`Retry-After`, `Connection: close`); `/healthz`, `/readyz` and `/metrics` still answer"),
} satisfies Record<string, HttpErrorSpec>);

/** An `HttpError` from the catalogue, with this occurrence's message and extra fields. */
export function httpError(error: HttpErrorSpec, message: string, extra?: Record<string, unknown>, headers?: HeadersInit): HttpError {
  return new HttpError(error.status, error.code, message, extra, headers);
}

export interface RunErrorSpec {
  /** The `code` of the `RUN_ERROR` event. */
  readonly code: string;
  /** The client-safe `message` it carries (details are logged). */
  readonly message: string;
  readonly when: string;
}

const runError = (code: string, message: string, when: string): RunErrorSpec => Object.freeze({ code, message, when });

/** The `RUN_ERROR` codes the runtime itself ends a stream with (an agent may send its own too). */
export const RUN_ERRORS = Object.freeze({
  agentError: runError("AGENT_ERROR", "The agent failed while running. See the server logs for details.", "the agent threw or its event stream errored"),
  incompleteStream: runError("INCOMPLETE_STREAM", "Run ended without emitting a terminal event", "the agent ended without `RUN_FINISHED` or `RUN_ERROR`"),
  eventNotSerializable: runError(
    "EVENT_NOT_SERIALIZABLE",
    "The run produced an event that could not be sent. See the server logs for details.",
    "the agent emitted an event JSON cannot carry (a `BigInt`, a cycle): that stream ends, the process and every other stream carry on",
  ),
  invalidEventSequence: runError(
    "INVALID_EVENT_SEQUENCE",
    "The agent emitted events out of order, so the run was ended. See the server logs for details.",
    "the agent broke AG-UI's event order (content for a message never started, a second `RUN_STARTED`, an event after the run ended, an end for a tool call never started, `RUN_FINISHED` with something still open, ...): what it left open is closed, the agent is aborted, and the run ends with this instead of a stream clients reject",
  ),
  runnerError: runError("RUNNER_ERROR", "The run failed. See the server logs for details.", "the runner's event source failed"),
  stopped: runError("STOPPED", "Run stopped by user", "the `interrupt` a stop answers with (the stream itself ends with `RUN_FINISHED`)"),
  interrupted: runError(
    "INTERRUPTED",
    "The run was interrupted: the server running it stopped before it finished.",
    "durable runners: the process running the run died (or stalled past its lease); stored by whichever server recovers the run, after its last stored event; the thread is free once recovered",
  ),
  persistenceFailed: runError(
    "PERSISTENCE_FAILED",
    "The run could not be saved and was stopped. See the server logs for details.",
    "durable runners: the database refused the run's events for good, or kept failing transiently until the retries or the lease ran out; the agent is aborted, the failure is stored after the last stored event when the database takes that write (the frame then has an `id:`), and the thread is free at once",
  ),
  leaseLost: runError(
    "LEASE_LOST",
    "The run lost its lease to another server and was stopped.",
    "durable runners: the database says the run is no longer this server's (its lease lapsed and another server recovered it); nothing more is written",
  ),
  threadDeleted: runError(
    "THREAD_DELETED",
    "The thread was deleted while this run was streaming; the run was stopped.",
    "durable runners: the run's thread was deleted (on any server) while it streamed; the agent is aborted and every row of the thread is gone, so nothing of the run is kept, and the frame has no `id:`. Followers on every server end the same way",
  ),
} satisfies Record<string, RunErrorSpec>);

/** A `RUN_ERROR` event for a catalogue entry. */
export function runErrorEvent(error: RunErrorSpec): { type: "RUN_ERROR"; message: string; code: string } {
  return { type: "RUN_ERROR", message: error.message, code: error.code };
}

/** `/transcribe` answers with CopilotKit's transcription codes (src/transcription/errors.ts). */
const TRANSCRIPTION_ERRORS: HttpErrorSpec[] = Object.entries(TRANSCRIPTION_ERROR_STATUS).map(([code, status]) =>
  spec(status, code, "`/transcribe` only: CopilotKit's transcription error (`retryable` says whether to retry)"),
);

/** The README's HTTP error table, generated from {@link HTTP_ERRORS}, sorted by status. */
export function renderHttpErrorTable(): string {
  const rows = [...Object.values(HTTP_ERRORS as Record<string, HttpErrorSpec>), ...TRANSCRIPTION_ERRORS]
    .map((e, i) => ({ ...e, i }))
    .sort((a, b) => a.status - b.status || a.i - b.i)
    .map((e) => `| ${e.status} | \`${e.code}\` | ${e.when} |`);
  return ["| Status | `error` | When |", "|---|---|---|", ...rows].join("\n");
}

/** The README's list of in-stream codes the runtime emits, from {@link RUN_ERRORS}. */
export function renderRunErrorTable(extra: readonly RunErrorSpec[] = []): string {
  const rows = [...Object.values(RUN_ERRORS as Record<string, RunErrorSpec>), ...extra].map((e) => `| \`${e.code}\` | ${e.when} |`);
  return ["| `RUN_ERROR` code | When |", "|---|---|", ...rows].join("\n");
}

/** A JSON error `Response` for a catalogue entry (for answers built outside a route's throw). */
export function errorResponse(error: HttpErrorSpec, message: string, headers?: HeadersInit, extra?: Record<string, unknown>): Response {
  return jsonError(error.status, error.code, message, extra, headers);
}
