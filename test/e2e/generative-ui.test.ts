/**
 * Generative UI in a real browser: examples/chat (CopilotKit's v2 React provider and chat) in
 * Chromium, talking to our runtime with `a2ui` and `openGenerativeUI` set for its `flights` agent. A scripted agent (no
 * model, no key) calls `render_a2ui` and `generateSandboxedUi` as an LLM would; the runtime's
 * middlewares turn those into activity events, and CopilotKit's own renderers must draw the A2UI
 * surface (title and data-bound line) and the sandboxed UI. The negative control is the same
 * agent on a runtime without the options: CopilotKit then mounts no renderer and shows no surface,
 * which is what users saw while these options were ignored.
 */
import { mkdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import type { RunAgentInput } from "@ag-ui/client";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCopilotNodeListener } from "../../src/adapters/node.js";
import { DemoAgent } from "../../src/agents/demo.js";
import { CopilotRuntime, type CopilotRuntimeOptions } from "../../src/runtime.js";
import { ScriptedAgent, type Script, type ScriptEvent } from "../helpers/agents.js";
import { A2UI_SURFACE, a2uiSurfaceReply, sandboxedUiReply } from "../helpers/genui.js";
import { launchChromium } from "./browser.js";
import { buildExample } from "./build-example.js";
import { startStaticServer, type StaticServer } from "./static-server.js";

const RESULTS_DIR = fileURLToPath(new URL("../../test-results/e2e", import.meta.url));
const UI_TIMEOUT = 20_000;
const TITLE = A2UI_SURFACE.components[1].text as string;
const STATUS = A2UI_SURFACE.data.status;

const sel = {
  status: '[data-testid="runtime-status"]',
  textarea: '[data-testid="copilot-chat-textarea"]',
  stop: '[data-testid="copilot-send-button"] svg.lucide-square',
  assistant: '[data-testid="copilot-assistant-message"]',
};

/**
 * A short answer, then the A2UI surface and a sandboxed UI, in one run. The client answers the
 * UI tool calls and runs the agent again with their results; like a model, the agent then only
 * closes with a sentence (otherwise it would draw the card forever).
 */
const flightCard: Script = (input: RunAgentInput) => {
  const messageId = `msg-${input.runId}`;
  if (input.messages.at(-1)?.role === "tool") {
    return [
      { type: "RUN_STARTED", threadId: input.threadId, runId: input.runId },
      { type: "TEXT_MESSAGE_START", messageId, role: "assistant" },
      { type: "TEXT_MESSAGE_CONTENT", messageId, delta: "Have a good flight." },
      { type: "TEXT_MESSAGE_END", messageId },
      { type: "RUN_FINISHED", threadId: input.threadId, runId: input.runId },
    ];
  }
  const text: ScriptEvent[] = [
    { type: "TEXT_MESSAGE_START", messageId, role: "assistant" },
    { type: "TEXT_MESSAGE_CONTENT", messageId, delta: "Here is your flight." },
    { type: "TEXT_MESSAGE_END", messageId },
  ];
  const a2ui = a2uiSurfaceReply()(input);
  const sandbox = sandboxedUiReply()(input).slice(1, -1);
  return [a2ui[0], ...text, ...a2ui.slice(1, -1), ...sandbox, a2ui.at(-1)!];
};

let site: StaticServer;
let browser: Browser;
const servers: Server[] = [];

async function startRuntime(options: Partial<CopilotRuntimeOptions>): Promise<string> {
  const agents = { default: new DemoAgent(), flights: new ScriptedAgent({ script: flightCard, delayMs: 5 }) };
  const runtime = new CopilotRuntime({ agents, ...options });
  const server = createServer(createCopilotNodeListener({ runtime, basePath: "/api/copilotkit", cors: true }));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/copilotkit`;
}

async function openChat(runtimeUrl: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1100, height: 1000 } });
  // `?agent=` makes the example's chat talk to the A2UI agent rather than `default`.
  const query = new URLSearchParams({ runtimeUrl, agent: "flights", thread: `e2e-genui-${Date.now()}-${Math.random().toString(36).slice(2)}` });
  await page.goto(`${site.origin}/?${query}`);
  await page.waitForSelector(`${sel.status}[data-status="connected"]`, { timeout: UI_TIMEOUT });
  return page;
}

/** Sends a message and waits until an assistant message says `reply` and no run is in progress. */
async function ask(page: Page, text: string, reply: string): Promise<void> {
  await page.fill(sel.textarea, text);
  await page.press(sel.textarea, "Enter");
  await page.waitForFunction(
    ([selector, expected]) => [...document.querySelectorAll(selector)].some((m) => m.textContent?.includes(expected)),
    [sel.assistant, reply] as const,
    { timeout: UI_TIMEOUT },
  );
  await page.waitForSelector(sel.stop, { state: "detached", timeout: UI_TIMEOUT });
}

const describeE2e = process.env.SKIP_E2E === "1" ? describe.skip : describe;

beforeAll(async () => {
  if (process.env.SKIP_E2E === "1") return;
  site = await startStaticServer(await buildExample(), "127.0.0.1");
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  await site?.close();
});

describeE2e("generative UI in CopilotKit's React chat (Chromium)", () => {
  it("draws the agent's A2UI surface, data binding included, and its sandboxed UI, and again after a reload", async () => {
    const page = await openChat(await startRuntime({ a2ui: { agents: ["flights"] }, openGenerativeUI: { agents: ["flights"] } }));
    // The client answers the two UI tool calls, so the agent runs once more and closes.
    await ask(page, "Show my flight", "Have a good flight.");
    // One surface (getByText is strict: a second copy fails). The title is a literal in the
    // surface's components; the status comes from its data model.
    await page.getByText(TITLE, { exact: true }).waitFor({ timeout: UI_TIMEOUT });
    await page.getByText(STATUS, { exact: true }).waitFor({ timeout: UI_TIMEOUT });
    // Open Generative UI renders the generated HTML in a sandboxed iframe.
    const sandbox = page.frameLocator("iframe").first().getByText("42", { exact: true });
    await sandbox.waitFor({ timeout: UI_TIMEOUT });
    mkdirSync(RESULTS_DIR, { recursive: true });
    await page.screenshot({ path: `${RESULTS_DIR}/generative-ui.png`, fullPage: true });

    // A reload restores the conversation from /connect's replay, the surface with it.
    await page.reload();
    await page.waitForSelector(`${sel.status}[data-status="connected"]`, { timeout: UI_TIMEOUT });
    await page.getByText(TITLE, { exact: true }).waitFor({ timeout: UI_TIMEOUT });
    await page.getByText(STATUS, { exact: true }).waitFor({ timeout: UI_TIMEOUT });
    await page.close();
  });

  it("shows no surface from the same agent on a runtime without the options", async () => {
    const page = await openChat(await startRuntime({}));
    await ask(page, "Show my flight", "Here is your flight.");
    expect(await page.getByText(TITLE, { exact: true }).count()).toBe(0);
    expect(await page.getByText(STATUS, { exact: true }).count()).toBe(0);
    await page.close();
  });
});
