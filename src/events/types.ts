/**
 * The loose shape the runtime works with internally. Agents arrive built with any
 * `@ag-ui/client` version (0.0.4x to 1.0), so the runtime reads only the fields it needs
 * and passes everything else through untouched.
 */
export interface AgentEvent {
  type: string;
  [field: string]: unknown;
}

/** An AG-UI message as it appears in `RunAgentInput.messages` and snapshots. */
export interface AgentMessage {
  id: string;
  role: string;
  content?: unknown;
  [field: string]: unknown;
}

/** The request body of `/run`, `/connect` and `/suggest` after validation. */
export interface RunInput {
  threadId: string;
  runId: string;
  parentRunId?: string;
  state?: unknown;
  messages: AgentMessage[];
  tools: Array<{ name: string; description?: string; parameters?: unknown; [field: string]: unknown }>;
  context: Array<{ description: string; value: string; [field: string]: unknown }>;
  forwardedProps?: unknown;
  [field: string]: unknown;
}

/** The AG-UI event type names the runtime itself reads or writes. */
export const EventTypes = {
  RUN_STARTED: "RUN_STARTED",
  RUN_FINISHED: "RUN_FINISHED",
  RUN_ERROR: "RUN_ERROR",
  TEXT_MESSAGE_START: "TEXT_MESSAGE_START",
  TEXT_MESSAGE_CONTENT: "TEXT_MESSAGE_CONTENT",
  TEXT_MESSAGE_END: "TEXT_MESSAGE_END",
  TEXT_MESSAGE_CHUNK: "TEXT_MESSAGE_CHUNK",
  TOOL_CALL_START: "TOOL_CALL_START",
  TOOL_CALL_ARGS: "TOOL_CALL_ARGS",
  TOOL_CALL_END: "TOOL_CALL_END",
  TOOL_CALL_CHUNK: "TOOL_CALL_CHUNK",
  TOOL_CALL_RESULT: "TOOL_CALL_RESULT",
  REASONING_START: "REASONING_START",
  REASONING_END: "REASONING_END",
  REASONING_MESSAGE_START: "REASONING_MESSAGE_START",
  REASONING_MESSAGE_CONTENT: "REASONING_MESSAGE_CONTENT",
  REASONING_MESSAGE_END: "REASONING_MESSAGE_END",
  REASONING_MESSAGE_CHUNK: "REASONING_MESSAGE_CHUNK",
  STEP_STARTED: "STEP_STARTED",
  STEP_FINISHED: "STEP_FINISHED",
  STATE_SNAPSHOT: "STATE_SNAPSHOT",
  STATE_DELTA: "STATE_DELTA",
  MESSAGES_SNAPSHOT: "MESSAGES_SNAPSHOT",
} as const;

export function isTerminal(event: AgentEvent): boolean {
  return event.type === EventTypes.RUN_FINISHED || event.type === EventTypes.RUN_ERROR;
}
