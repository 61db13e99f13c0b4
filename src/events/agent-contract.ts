import type { AgentEvent, AgentMessage, RunInput } from "./types.js";

/** The subscription side of an rxjs-compatible observable, whichever rxjs copy made it. */
export interface EventSubscribable {
  subscribe(observer: {
    next: (event: AgentEvent) => void;
    error: (error: unknown) => void;
    complete: () => void;
  }): { unsubscribe(): void };
}

/**
 * What the runtime needs from an AG-UI agent. `AbstractAgent` from any `@ag-ui/client` version
 * in the field (0.0.4x, 0.0.5x, 1.0) satisfies it, and so does a duck-typed object with `clone()`
 * and `runAgent()` (CopilotKit's own contract): the runtime needs `clone()` and one of `run()` or
 * `runAgent()` (see drive-mode.ts), never one version's internals.
 */
export interface AgentLike {
  agentId?: string;
  description?: string;
  threadId?: string;
  messages?: unknown[];
  state?: unknown;
  headers?: Record<string, string>;
  clone(): AgentLike;
  run?(input: any): EventSubscribable | any;
  runAgent?(parameters?: any, subscriber?: any): Promise<unknown>;
  abortRun?(): void;
  setMessages?(messages: any[]): void;
  setState?(state: any): void;
  getCapabilities?(): Promise<unknown>;
}

/** A registered agent's clone, prepared for one request. */
export function prepareAgentForRequest(
  registered: AgentLike,
  agentId: string,
  input: RunInput,
  headers: Record<string, string> | undefined,
): AgentLike {
  const agent = registered.clone();
  agent.agentId = agentId;
  const messages = input.messages as AgentMessage[];
  if (typeof agent.setMessages === "function") agent.setMessages(messages);
  else agent.messages = messages;
  const state = input.state ?? {};
  if (typeof agent.setState === "function") agent.setState(state);
  else agent.state = state;
  agent.threadId = input.threadId;
  if (headers !== undefined) agent.headers = headers;
  return agent;
}
