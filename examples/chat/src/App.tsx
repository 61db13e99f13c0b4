import { CopilotChat, CopilotKitProvider, useFrontendTool } from "@copilotkit/react-core/v2";
import { useState } from "react";
import { z } from "zod";
import { RuntimeStatus } from "./RuntimeStatus";
import type { Settings } from "./settings";

/**
 * CopilotKit's own v2 provider and chat, pointed at a copilot-runtime server. The page offers
 * the agent one frontend tool, `setBackgroundColor`: ask the demo agent to "change the
 * background to teal" and it calls the tool, the page changes colour, and the agent confirms.
 *
 * Generative UI needs no code here: when the runtime's `/info` says `a2uiEnabled` (its `a2ui`
 * option), the provider mounts CopilotKit's A2UI renderer, and the surfaces an agent draws appear
 * in the chat. `?agent=` picks the agent, e.g. one the runtime's `a2ui.agents` names.
 *
 * `?inspector=1` turns on CopilotKit's web inspector (a launcher button at the corner of the page).
 * The provider itself still requires a development build and a loopback host before it mounts it.
 */
export function App({ settings }: { settings: Settings }) {
  return (
    <CopilotKitProvider runtimeUrl={settings.runtimeUrl} credentials={settings.credentials} enableInspector={settings.inspector}>
      <Page threadId={settings.threadId} agentId={settings.agentId} />
    </CopilotKitProvider>
  );
}

function Page({ threadId, agentId }: { threadId: string; agentId?: string }) {
  const [background, setBackground] = useState<string | undefined>(undefined);

  useFrontendTool({
    name: "setBackgroundColor",
    description: "Sets the background colour of the page. Accepts any CSS colour (a name such as 'teal', or '#336699').",
    parameters: z.object({ color: z.string().describe("A CSS colour") }),
    handler: async ({ color }) => {
      if (!CSS.supports("color", color)) return `"${color}" is not a CSS colour; the background is unchanged.`;
      setBackground(color);
      return `Background changed to ${color}`;
    },
  });

  return (
    <main className="page" style={{ background }} data-testid="page">
      <header className="page-header">
        <h1>copilot-runtime + CopilotKit</h1>
        <RuntimeStatus />
      </header>
      <section className="chat">
        <CopilotChat threadId={threadId} agentId={agentId} labels={{ chatInputPlaceholder: "Ask the demo agent… try “change the background to teal”" }} />
      </section>
    </main>
  );
}
