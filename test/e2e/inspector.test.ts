/**
 * CopilotKit's own web inspector (`@copilotkit/web-inspector`, mounted by the v2 React
 * provider) showing runs served by copilot-runtime. examples/chat is built in development mode
 * (the provider mounts the inspector only when `NODE_ENV` is "development" and the page is on a
 * loopback host) and opened with `?inspector=1`. The inspector reads events through the client's
 * agent subscription, not from the runtime's `/cpk-debug-events`, so what it lists is what our
 * SSE stream delivered. A screenshot of its AG-UI Events view is saved to test-results/e2e/.
 */
import { mkdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCopilotNodeListener } from "../../src/adapters/node.js";
import { DemoAgent } from "../../src/agents/demo.js";
import { CopilotRuntime } from "../../src/runtime.js";
import { launchChromium } from "./browser.js";
import { buildExample } from "./build-example.js";
import { startStaticServer, type StaticServer } from "./static-server.js";

const RESULTS_DIR = fileURLToPath(new URL("../../test-results/e2e", import.meta.url));
const UI_TIMEOUT = 20_000;

const sel = {
  status: '[data-testid="runtime-status"]',
  textarea: '[data-testid="copilot-chat-textarea"]',
  stop: '[data-testid="copilot-send-button"] svg.lucide-square',
  assistant: '[data-testid="copilot-assistant-message"]',
  inspector: "cpk-web-inspector",
  /** One row of the inspector's AG-UI Events table (playwright's CSS pierces its open shadow root). */
  eventRow: "cpk-web-inspector tr[data-inspector-event-id]",
};

let site: StaticServer;
let runtimeServer: Server;
let runtimeUrl: string;
let browser: Browser;
let context: BrowserContext;

beforeAll(async () => {
  if (process.env.SKIP_E2E === "1") return;
  const dist = await buildExample({ development: true });
  site = await startStaticServer(dist, "127.0.0.1");
  const runtime = new CopilotRuntime({ agents: { default: new DemoAgent({ wordDelayMs: 5 }) } });
  runtimeServer = createServer(createCopilotNodeListener({ runtime, basePath: "/api/copilotkit", cors: { origin: site.origin } }));
  await new Promise<void>((resolve) => runtimeServer.listen(0, "127.0.0.1", resolve));
  runtimeUrl = `http://127.0.0.1:${(runtimeServer.address() as AddressInfo).port}/api/copilotkit`;
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1300, height: 900 } });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  runtimeServer?.closeAllConnections();
  await new Promise<void>((resolve) => (runtimeServer ? runtimeServer.close(() => resolve()) : resolve()));
  await site?.close();
});

async function openChat(threadId: string, extra: Record<string, string> = {}): Promise<Page> {
  const page = await context.newPage();
  const query = new URLSearchParams({ runtimeUrl, thread: threadId, ...extra });
  await page.goto(`${site.origin}/?${query}`);
  await page.waitForSelector(`${sel.status}[data-status="connected"]`, { timeout: UI_TIMEOUT });
  return page;
}

interface EventRow {
  agent: string;
  type: string;
  event: Record<string, unknown>;
}

/** The AG-UI Events table as data: newest first, as the inspector lists it. */
async function readEventRows(page: Page): Promise<EventRow[]> {
  const rows = await page.locator(sel.eventRow).evaluateAll((trs) =>
    trs.map((tr) => Array.from(tr.querySelectorAll("td"), (td) => (td.textContent ?? "").trim())),
  );
  return rows.map(([agent = "", , type = "", json = "{}"]) => ({ agent, type, event: JSON.parse(json) as Record<string, unknown> }));
}

/** All the text the inspector shows (it renders into its shadow root, which `textContent` of the host skips). */
async function inspectorText(page: Page): Promise<string> {
  return page.locator(sel.inspector).evaluate((host) => (host.shadowRoot?.textContent ?? "").replace(/\s+/g, " "));
}

const describeE2e = process.env.SKIP_E2E === "1" ? describe.skip : describe;

describeE2e("CopilotKit's web inspector on copilot-runtime runs", () => {
  it("stays off on the default page and is mounted with ?inspector=1", async () => {
    const plain = await openChat(`plain-${Date.now()}`);
    // The provider decides in its first effect, well before /info answers and the status says connected.
    expect(await plain.locator(sel.inspector).count()).toBe(0);
    await plain.close();

    const page = await openChat(`insp-${Date.now()}`, { inspector: "1" });
    await expect.poll(() => page.locator(sel.inspector).getByRole("button", { name: "Web Inspector" }).count(), { timeout: UI_TIMEOUT }).toBe(1);
    await page.close();
  });

  it("lists our agent and the run's AG-UI events, matching the reply in the chat", async () => {
    const threadId = `insp-run-${Date.now()}`;
    const page = await openChat(threadId, { inspector: "1" });
    const inspector = page.locator(sel.inspector);
    await inspector.getByRole("button", { name: "Web Inspector" }).waitFor({ timeout: UI_TIMEOUT });

    await page.fill(sel.textarea, "Hello inspector");
    await page.press(sel.textarea, "Enter");
    await page.waitForFunction(
      (selector) => (document.querySelector(selector)?.textContent ?? "").includes("Configure a model provider key"),
      sel.assistant,
      { timeout: UI_TIMEOUT },
    );
    await page.waitForSelector(sel.stop, { state: "detached", timeout: UI_TIMEOUT });
    const reply = ((await page.textContent(sel.assistant)) ?? "").trim();

    await inspector.getByRole("button", { name: "Web Inspector" }).click();
    // Home: the runtime the inspector found, with the run's last event as recent activity.
    await expect.poll(() => inspectorText(page), { timeout: UI_TIMEOUT }).toContain(runtimeUrl);

    await inspector.getByRole("button", { name: "AG-UI Events", exact: true }).click();
    await page.waitForSelector(sel.eventRow, { timeout: UI_TIMEOUT });
    const rows = (await readEventRows(page)).reverse(); // oldest first

    expect(new Set(rows.map((row) => row.agent))).toEqual(new Set(["default"]));
    const types = rows.map((row) => row.type);
    expect(types[0]).toBe("RUN_STARTED");
    expect(types.at(-1)).toBe("RUN_FINISHED");
    expect(types).toEqual(expect.arrayContaining(["TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END"]));
    const started = rows[0]!.event;
    expect(started.threadId).toBe(threadId);
    expect(rows.at(-1)!.event.runId).toBe(started.runId);
    // The streamed deltas, joined in order, are exactly the reply the chat shows.
    const streamed = rows
      .filter((row) => row.type === "TEXT_MESSAGE_CONTENT")
      .map((row) => String(row.event.delta))
      .join("");
    expect(streamed.trim()).toBe(reply);
    expect(streamed).toContain('You said: "Hello inspector"');

    mkdirSync(RESULTS_DIR, { recursive: true });
    await page.screenshot({ path: `${RESULTS_DIR}/inspector-events.png` });

    // The agent scope menu offers the runtime's agent by its id.
    await inspector.getByRole("button", { name: /^Select agent scope/ }).click();
    const option = inspector.locator('[data-context-dropdown-root="true"] button', { hasText: /^\s*default\s*$/ });
    await option.first().click();
    await inspector.getByRole("button", { name: "Agent", exact: true }).click();
    // The Agent view: its status, the event count above, and the conversation as the client holds it.
    await expect.poll(() => inspectorText(page), { timeout: UI_TIMEOUT }).toContain("Current Messages");
    const agentView = await inspectorText(page);
    expect(agentView).toContain("default Idle");
    expect(agentView).toContain(`Total Events ${rows.length}`);
    expect(agentView).toContain("Messages 2");
    expect(agentView).toContain(`user Hello inspector assistant ${reply}`);
    expect(agentView).toContain("Registered Tools setBackgroundColor");
    await page.screenshot({ path: `${RESULTS_DIR}/inspector-agent.png` });
    await page.close();
  }, 60_000);
});
