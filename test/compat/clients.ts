/**
 * The real clients under test, behind one small structural type each, so a scenario is
 * written once and run against every version.
 */
import { HttpAgent as HttpAgent_1_0 } from "@ag-ui/client";
import { HttpAgent as HttpAgent_0_0_58 } from "ag-ui-client-0-0-58";
import { HttpAgent as HttpAgent_0_0_48 } from "ag-ui-client-0-0-48";
import { CopilotKitCore as CopilotKitCore_1_54 } from "@copilotkitnext/core";
import { CopilotKitCore as CopilotKitCore_1_75 } from "@copilotkit/core";

export interface ClientMessage {
  id: string;
  role: string;
  content?: unknown;
}

export interface ClientEvent {
  type: string;
  [key: string]: unknown;
}

/** The AG-UI subscriber hooks the suites use (every client version has them). */
export interface ClientSubscriber {
  onEvent?: (params: { event: ClientEvent }) => void;
  onTextMessageContentEvent?: (params: { event: ClientEvent }) => void;
  onRunFailed?: (params: { error: Error }) => void;
  onRunFinishedEvent?: (params: { event: ClientEvent }) => void;
  onRunErrorEvent?: (params: { event: ClientEvent }) => void;
}

/** What the suites use of an AG-UI agent (`HttpAgent`, or CopilotKit's proxied agent). */
export interface ClientAgent {
  agentId?: string;
  threadId: string;
  messages: ClientMessage[];
  isRunning: boolean;
  headers: Record<string, string>;
  addMessage(message: ClientMessage): void;
  setMessages(messages: ClientMessage[]): void;
  runAgent(parameters?: Record<string, unknown>, subscriber?: ClientSubscriber): Promise<{ newMessages: ClientMessage[] }>;
  subscribe(subscriber: ClientSubscriber): { unsubscribe(): void };
  abortRun(): void;
}

export interface HttpAgentClient {
  name: string;
  create(config: { url: string; threadId?: string; headers?: Record<string, string> }): ClientAgent;
}

export const httpAgentClients: HttpAgentClient[] = [
  { name: "@ag-ui/client 1.0.0", create: (config) => new HttpAgent_1_0(config) as unknown as ClientAgent },
  { name: "@ag-ui/client 0.0.58", create: (config) => new HttpAgent_0_0_58(config) as unknown as ClientAgent },
  { name: "@ag-ui/client 0.0.48", create: (config) => new HttpAgent_0_0_48(config) as unknown as ClientAgent },
];

export interface CoreError {
  code: string;
  error: Error;
}

/** What the suites use of `CopilotKitCore` (1.54.1 and 1.75 share these names). */
export interface CoreClient {
  readonly agents: Record<string, ClientAgent>;
  readonly runtimeConnectionStatus: string;
  readonly runtimeTransport: string;
  getAgent(id: string): ClientAgent | undefined;
  runAgent(params: { agent: ClientAgent }): Promise<{ newMessages: ClientMessage[] }>;
  connectAgent(params: { agent: ClientAgent }): Promise<{ newMessages: ClientMessage[] }>;
  stopAgent(params: { agent: ClientAgent }): void;
  subscribe(subscriber: { onError?: (event: CoreError) => void }): { unsubscribe(): void };
}

export interface CoreClientFactory {
  name: string;
  /**
   * The transport the client ends up on, once connected. The suites serve "single" clients
   * from a single-route-only endpoint, so a stray REST call fails loudly (404).
   */
  expectedTransport: "rest" | "single";
  create(config: { runtimeUrl: string; headers?: Record<string, string> }): CoreClient;
}

export const coreClients: CoreClientFactory[] = [
  {
    name: "@copilotkitnext/core 1.54.1 (REST)",
    expectedTransport: "rest",
    create: ({ runtimeUrl, headers }) =>
      new CopilotKitCore_1_54({ runtimeUrl, runtimeTransport: "rest", headers }) as unknown as CoreClient,
  },
  {
    name: "@copilotkitnext/core 1.54.1 (single route)",
    expectedTransport: "single",
    create: ({ runtimeUrl, headers }) =>
      new CopilotKitCore_1_54({ runtimeUrl, runtimeTransport: "single", headers }) as unknown as CoreClient,
  },
  {
    name: "@copilotkit/core 1.75 (auto)",
    expectedTransport: "rest",
    create: ({ runtimeUrl, headers }) => new CopilotKitCore_1_75({ runtimeUrl, headers }) as unknown as CoreClient,
  },
  {
    // Auto against a server without GET /info (v1-style single-route mounts): the client falls
    // back to POST {"method":"info"} and then speaks the envelope.
    name: "@copilotkit/core 1.75 (auto, falls back to single route)",
    expectedTransport: "single",
    create: ({ runtimeUrl, headers }) => new CopilotKitCore_1_75({ runtimeUrl, headers }) as unknown as CoreClient,
  },
];
