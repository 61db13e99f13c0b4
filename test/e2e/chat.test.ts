/**
 * The real frontend in a real browser: examples/chat (CopilotKit's v2 React provider and chat)
 * built with Vite, served from one loopback origin, talking to our runtime (DemoAgent, Node
 * adapter) on another, in Debian's Chromium. One conversation runs through the tests in order
 * (info, streaming, stop, reload, frontend tool), then a page on a third origin is refused by
 * CORS. A screenshot of the finished conversation is saved to test-results/e2e/.
 */
import { mkdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import type { Browser, BrowserContext, Page, Response as PwResponse } from "playwright-core";
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
  send: '[data-testid="copilot-send-button"]',
  /** The send button turns into a stop button (a square icon) while the agent runs. */
  stop: '[data-testid="copilot-send-button"] svg.lucide-square',
  user: '[data-testid="copilot-user-message"]',
  assistant: '[data-testid="copilot-assistant-message"]',
};

let site: StaticServer;
let otherSite: StaticServer;
let runtimeServer: Server;
let runtimeUrl: string;
let browser: Browser;
let context: BrowserContext;
let page: Page;
/** Every response from the runtime the main page received, in order. */
const runtimeResponses: PwResponse[] = [];

beforeAll(async () => {
  if (process.env.SKIP_E2E === "1") return;
  const dist = await buildExample();
  // The page's origin and the runtime's are different, as in most deployments.
  site = await startStaticServer(dist, "127.0.0.1");
  otherSite = await startStaticServer(dist, "localhost");
  const runtime = new CopilotRuntime({ agents: { default: new DemoAgent({ wordDelayMs: 25 }) } });
  runtimeServer = createServer(
    createCopilotNodeListener({ runtime, basePath: "/api/copilotkit", cors: { origin: site.origin, credentials: true } }),
  );
  await new Promise<void>((resolve) => runtimeServer.listen(0, "127.0.0.1", resolve));
  runtimeUrl = `http://127.0.0.1:${(runtimeServer.address() as AddressInfo).port}/api/copilotkit`;
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  page = await context.newPage();
  page.on("response", (response) => {
    if (response.url().startsWith(runtimeUrl)) runtimeResponses.push(response);
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  runtimeServer?.closeAllConnections();
  await new Promise<void>((resolve) => (runtimeServer ? runtimeServer.close(() => resolve()) : resolve()));
  await site?.close();
  await otherSite?.close();
});

function pageUrl(origin: string, threadId: string): string {
  const query = new URLSearchParams({ runtimeUrl, thread: threadId, credentials: "include" });
  return `${origin}/?${query}`;
}

async function waitConnected(target: Page): Promise<void> {
  await target.waitForSelector(`${sel.status}[data-status="connected"]`, { timeout: UI_TIMEOUT });
}

async function send(text: string): Promise<void> {
  await page.fill(sel.textarea, text);
  await page.press(sel.textarea, "Enter");
}

async function texts(selector: string, target = page): Promise<string[]> {
  return target.$$eval(selector, (nodes) => nodes.map((node) => (node.textContent ?? "").trim()));
}

/** Waits until the last assistant message contains `text`. */
async function waitForReply(text: string): Promise<string> {
  const handle = await page.waitForFunction(
    ([selector, expected]) => {
      const messages = document.querySelectorAll(selector);
      const last = messages[messages.length - 1]?.textContent ?? "";
      return last.includes(expected) ? last : false;
    },
    [sel.assistant, text] as const,
    { timeout: UI_TIMEOUT },
  );
  return (await handle.jsonValue()) as string;
}

/** Waits until no run is in progress (the button is a send button again). */
async function waitIdle(): Promise<void> {
  await page.waitForSelector(sel.stop, { state: "detached", timeout: UI_TIMEOUT });
}

const describeE2e = process.env.SKIP_E2E === "1" ? describe.skip : describe;

describeE2e("CopilotKit v2 React chat in Chromium against copilot-runtime", () => {
  const threadId = `e2e-${Date.now()}`;

  it("loads, discovers the agent through GET /info, and can send", async () => {
    await page.goto(pageUrl(site.origin, threadId));
    await waitConnected(page);
    expect(await page.getAttribute(sel.status, "data-agents")).toBe("default");
    const info = runtimeResponses.find((r) => r.request().method() === "GET" && r.url() === `${runtimeUrl}/info`);
    expect(info?.status()).toBe(200);
    expect(await info?.headerValue("access-control-allow-credentials")).toBe("true");
    expect(await page.isEnabled(sel.textarea)).toBe(true);
  });

  it("streams the reply into the page token by token", async () => {
    // Record every text the assistant message shows, as the DOM changes.
    await page.evaluate((selector) => {
      const seen: string[] = [];
      (window as unknown as { seen: string[] }).seen = seen;
      new MutationObserver(() => {
        const messages = document.querySelectorAll(selector);
        const text = (messages[messages.length - 1]?.textContent ?? "").trim();
        if (text !== "" && seen[seen.length - 1] !== text) seen.push(text);
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    }, sel.assistant);

    await send("Hello runtime");
    const final = (await waitForReply("Configure a model provider key to talk to a real LLM.")).trim();
    await waitIdle();

    expect(final).toContain('You said: "Hello runtime"');
    const seen = await page.evaluate(() => (window as unknown as { seen: string[] }).seen);
    const partial = seen.filter((text) => text !== final && final.startsWith(text));
    // Several strictly growing prefixes: the words arrived one by one, not in one piece.
    expect(partial.length).toBeGreaterThan(3);
    expect(await texts(sel.user)).toEqual(["Hello runtime"]);
  });

  it("stops a long reply with the stop button, and the chat is usable again", async () => {
    await send("Tell me something long");
    await waitForReply("word5");
    await page.click(sel.send); // the stop button while running
    await waitIdle();

    const stopped = (await texts(sel.assistant)).at(-1)!;
    expect(stopped).toContain("word5");
    expect(stopped).not.toContain("word400");
    expect(runtimeResponses.some((r) => r.url().includes("/agent/default/stop/") && r.status() === 200)).toBe(true);

    await send("Are you still there?");
    await waitForReply('You said: "Are you still there?"');
    await waitIdle();
    expect(await texts(sel.user)).toEqual(["Hello runtime", "Tell me something long", "Are you still there?"]);
  });

  it("restores the conversation after a reload through connect, with no duplicated message", async () => {
    const usersBefore = await texts(sel.user);
    const assistantsBefore = await texts(sel.assistant);
    const connectsBefore = runtimeResponses.filter((r) => r.url().endsWith("/agent/default/connect")).length;

    await page.reload();
    await waitConnected(page);
    await page.waitForFunction(
      ([selector, count]) => document.querySelectorAll(selector).length >= count,
      [sel.user, usersBefore.length] as const,
      { timeout: UI_TIMEOUT },
    );
    await page.waitForFunction(
      ([selector, count]) => document.querySelectorAll(selector).length >= count,
      [sel.assistant, assistantsBefore.length] as const,
      { timeout: UI_TIMEOUT },
    );

    expect(await texts(sel.user)).toEqual(usersBefore);
    expect(await texts(sel.assistant)).toEqual(assistantsBefore);
    const connects = runtimeResponses.filter((r) => r.url().endsWith("/agent/default/connect")).slice(connectsBefore);
    expect(connects.some((r) => r.status() === 200)).toBe(true);
  });

  it("completes the frontend tool round trip: the page turns teal and the agent confirms", async () => {
    await send("Change the background to teal");
    await page.waitForFunction(
      (selector) => getComputedStyle(document.querySelector(selector)!).backgroundColor === "rgb(0, 128, 128)",
      '[data-testid="page"]',
      { timeout: UI_TIMEOUT },
    );
    const ack = await waitForReply('it answered "Background changed to teal"');
    await waitIdle();
    expect(ack).toContain('I called setBackgroundColor with {"color":"teal"}');

    mkdirSync(RESULTS_DIR, { recursive: true });
    await page.setViewportSize({ width: 1100, height: 1700 }); // tall enough for the whole conversation
    await page.screenshot({ path: `${RESULTS_DIR}/chat-conversation.png`, fullPage: true });
  });

  it("refuses a page on another origin when CORS names one origin with credentials", async () => {
    const other: BrowserContext = await browser.newContext();
    try {
      const foreign = await other.newPage();
      await foreign.goto(pageUrl(otherSite.origin, `${threadId}-foreign`));
      await foreign.waitForSelector(`${sel.status}[data-status="error"]`, { timeout: UI_TIMEOUT });
      expect(await foreign.getAttribute(sel.status, "data-agents")).toBe("");

      // The browser itself blocks the read; the allowed origin's page can still fetch.
      const probe = (target: Page) =>
        target.evaluate((url) => fetch(`${url}/info`, { credentials: "include" }).then((r) => `ok ${r.status}`, () => "blocked"), runtimeUrl);
      expect(await probe(foreign)).toBe("blocked");
      expect(await probe(page)).toBe("ok 200");
    } finally {
      await other.close();
    }
  });
});
