import { useCopilotKit } from "@copilotkit/react-core/v2";
import { useEffect, useState } from "react";

/** Shows whether the page reached the runtime and which agents its `/info` listed. */
export function RuntimeStatus() {
  const { copilotkit } = useCopilotKit();
  const [status, setStatus] = useState<string>(copilotkit.runtimeConnectionStatus);
  const [agents, setAgents] = useState<string[]>(Object.keys(copilotkit.agents));

  useEffect(() => {
    const subscription = copilotkit.subscribe({
      onRuntimeConnectionStatusChanged: ({ status }) => setStatus(status),
      onAgentsChanged: ({ agents }) => setAgents(Object.keys(agents)),
    });
    setStatus(copilotkit.runtimeConnectionStatus);
    setAgents(Object.keys(copilotkit.agents));
    return () => subscription.unsubscribe();
  }, [copilotkit]);

  return (
    <p className={`status status-${status}`} data-testid="runtime-status" data-status={status} data-agents={agents.join(",")}>
      runtime: {status}
      {agents.length > 0 ? ` · agents: ${agents.join(", ")}` : ""}
    </p>
  );
}
