/** Where the runtime is and which conversation to show, read once from the page URL. */
export interface Settings {
  /** `?runtimeUrl=`; default: the `copilot-runtime serve` address. */
  runtimeUrl: string;
  /** `?thread=`; a new one is generated and written into the URL, so a reload keeps the conversation. */
  threadId: string;
  /** `?credentials=include` sends cookies cross-origin (the runtime must allow credentials for this origin). */
  credentials?: RequestCredentials;
  /** `?agent=`: which of the runtime's agents the chat talks to; default `default`. */
  agentId?: string;
  /**
   * `?inspector=1`: let CopilotKit's provider mount its web inspector. The provider only does so
   * in a development build (`npm run dev`) on a loopback host; the default page keeps it off.
   */
  inspector: boolean;
  /**
   * `?mode=intelligence`: the threads page (chat + CopilotKit's threads drawer) for a runtime in
   * Intelligence mode; anything else is the plain chat.
   */
  mode: "chat" | "intelligence";
  /**
   * `?user=`: sent as the `x-user` header on every runtime request, for a demo runtime whose
   * `identifyUser` reads it (a real app would use its session). Omitted when not set.
   */
  user?: string;
}

const DEFAULT_RUNTIME_URL = import.meta.env.VITE_RUNTIME_URL ?? "http://localhost:3001/api/copilotkit";

export function readSettings(): Settings {
  const url = new URL(window.location.href);
  let threadId = url.searchParams.get("thread");
  if (threadId === null || threadId === "") {
    threadId = crypto.randomUUID();
    url.searchParams.set("thread", threadId);
    window.history.replaceState(null, "", url);
  }
  const credentials = url.searchParams.get("credentials");
  return {
    runtimeUrl: url.searchParams.get("runtimeUrl") ?? DEFAULT_RUNTIME_URL,
    threadId,
    credentials: credentials === "include" || credentials === "same-origin" ? credentials : undefined,
    agentId: url.searchParams.get("agent") || undefined,
    inspector: url.searchParams.get("inspector") === "1",
    mode: url.searchParams.get("mode") === "intelligence" ? "intelligence" : "chat",
    user: url.searchParams.get("user") || undefined,
  };
}
