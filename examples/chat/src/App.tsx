import { CopilotChat, CopilotKitProvider, useFrontendTool } from "@copilotkit/react-core/v2";
import { useState } from "react";
import { z } from "zod";
import { RuntimeStatus } from "./RuntimeStatus";
import type { Settings } from "./settings";

/**
 * CopilotKit's own v2 provider and chat, pointed at a copilot-runtime server. The page offers
 * the agent one frontend tool, `setBackgroundColor`: ask the demo agent to "change the
 * background to teal" and it calls the tool, the page changes colour, and the agent confirms.
 */
export function App({ settings }: { settings: Settings }) {
  return (
    <CopilotKitProvider runtimeUrl={settings.runtimeUrl} credentials={settings.credentials} enableInspector={false}>
      <Page threadId={settings.threadId} />
    </CopilotKitProvider>
  );
}

function Page({ threadId }: { threadId: string }) {
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
        <CopilotChat threadId={threadId} labels={{ chatInputPlaceholder: "Ask the demo agent… try “change the background to teal”" }} />
      </section>
    </main>
  );
}
