import { CopilotChat, CopilotChatConfigurationProvider, CopilotKitProvider, CopilotThreadsDrawer } from "@copilotkit/react-core/v2";
import { useCallback, useMemo, useState } from "react";
import { RuntimeStatus } from "./RuntimeStatus";
import type { Settings } from "./settings";

/**
 * The threads page (`?mode=intelligence`): CopilotKit's chat beside CopilotKit's threads drawer,
 * for a runtime in Intelligence mode (`new CopilotRuntime({ intelligence, identifyUser, ... })`).
 * The drawer lists the user's threads live, "New Conversation" starts one, and picking a row
 * switches the chat to that thread, which CopilotKit restores from the platform.
 *
 * The page owns the active thread id (from `?thread=`, kept in the URL so a reload stays on the
 * same conversation) and hands it to the chat explicitly; the drawer reports picks and new threads
 * through its callbacks. CopilotKit unlocks the drawer only when the runtime's `/info` reports a
 * valid licence or an active entitlement with the `threads` feature; otherwise it shows its locked view.
 */
export function IntelligenceApp({ settings }: { settings: Settings }) {
  // One object for the life of the page: the provider treats a new headers object as a change.
  const headers = useMemo(() => (settings.user !== undefined ? { "x-user": settings.user } : undefined), [settings.user]);
  return (
    <CopilotKitProvider runtimeUrl={settings.runtimeUrl} credentials={settings.credentials} headers={headers}>
      <ThreadsPage initialThreadId={settings.threadId} agentId={settings.agentId ?? "default"} />
    </CopilotKitProvider>
  );
}

function ThreadsPage({ initialThreadId, agentId }: { initialThreadId: string; agentId: string }) {
  const [threadId, setThreadId] = useState(initialThreadId);

  const showThread = useCallback((id: string) => {
    setThreadId(id);
    const url = new URL(window.location.href);
    url.searchParams.set("thread", id);
    window.history.replaceState(null, "", url);
  }, []);
  const startThread = useCallback(() => showThread(crypto.randomUUID()), [showThread]);

  return (
    <main className="page threads-page" data-testid="page" data-thread-id={threadId}>
      <header className="page-header">
        <h1>copilot-runtime + CopilotKit Intelligence</h1>
        <RuntimeStatus />
      </header>
      {/* The configuration scope shares the active thread with the drawer (its highlighted row). */}
      <CopilotChatConfigurationProvider agentId={agentId} threadId={threadId}>
        <div className="threads-layout">
          <CopilotThreadsDrawer agentId={agentId} onThreadSelect={showThread} onNewThread={startThread} collapsible={false} />
          <section className="chat">
            <CopilotChat threadId={threadId} agentId={agentId} />
          </section>
        </div>
      </CopilotChatConfigurationProvider>
    </main>
  );
}
