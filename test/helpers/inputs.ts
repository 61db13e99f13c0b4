/**
 * `RunAgentInput` bodies for raw HTTP calls. Ids are unique per process and call, so tests
 * that share a store never collide.
 */

let counter = 0;

/** A unique id with a readable prefix: `run-<pid>-<time>-<n>`. */
export const uid = (prefix: string) => `${prefix}-${process.pid}-${Date.now().toString(36)}-${(counter++).toString(36)}`;

/**
 * A complete `RunAgentInput`: thread `thread-1`, a fresh run id, one user message "hi",
 * empty tools/context/state; any field can be overridden (extra fields are kept, to test them).
 */
export function runInput(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    threadId: "thread-1",
    runId: uid("run"),
    messages: [{ id: uid("msg"), role: "user", content: "hi" }],
    tools: [],
    context: [],
    state: {},
    forwardedProps: {},
    ...overrides,
  };
}

/** A run of `threadId` whose user says `text` (or sends `messages`), with an optional fixed run id. */
export function runBody(threadId: string, options: { text?: string; messages?: Array<Record<string, unknown>>; runId?: string } = {}) {
  return runInput({
    threadId,
    runId: options.runId ?? uid("run"),
    messages: options.messages ?? [{ id: uid("msg"), role: "user", content: options.text ?? "hi" }],
  });
}
