/**
 * CopilotKit's React chat and threads drawer in Chromium, in Intelligence mode, against our
 * platform: examples/chat's threads page (`?mode=intelligence`) served on one origin with a runtime
 * under `/api/copilotkit` (configured with `new CopilotKitIntelligence({ apiUrl, wsUrl, apiKey })`
 * pointing at `serveIntelligencePlatform` on a SQLite store); the browser opens its Phoenix sockets
 * to the platform, a second origin that is the only one on its `clientOrigins`. The same suite runs
 * with CopilotKit's real 1.75 runtime and with ours (`CopilotRuntime({ intelligence })`).
 *
 * One user's session runs through the tests in order: the drawer is unlocked with no licence banner,
 * a reply streams in, the drawer lists the thread, a second thread and back restores the first, and
 * a second tab's runs appear live in the first (the thread list over `user_meta`, the open thread's
 * messages through `thread_run_activity` and a reconnect). The last test is the control: the same
 * page against a platform without the entitlement endpoint shows the locked drawer and the banner.
 */
import { mkdirSync } from "node:fs";
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import type { Browser, BrowserContext, Page, Response as PwResponse } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { sendWebResponse } from "../../src/adapters/node-response.js";
import { CopilotKitIntelligence, CopilotRuntime, createCopilotRuntimeHandler } from "../../src/index.js";
import { toWebRequest } from "../../src/adapters/node-request.js";
import { type ServedIntelligencePlatform, serveIntelligencePlatform } from "../../src/intelligence/platform.js";
import { SqliteIntelligenceStore } from "../../src/intelligence/store/sqlite.js";
import { type Script, ScriptedAgent, lastUserText, textReply } from "../helpers/agents.js";
import { API_KEY, TOKEN_SECRET, quietLogger } from "../helpers/intelligence.js";
import { disableCopilotKitTelemetry } from "../helpers/runtimes.js";
import { launchChromium } from "./browser.js";
import { buildExample } from "./build-example.js";
import { type StaticServer, startStaticServer } from "./static-server.js";

const RESULTS_DIR = fileURLToPath(new URL("../../test-results/e2e", import.meta.url));
const UI_TIMEOUT = 20_000;
/** The runtime's path on the page's origin (licensed platform), and the control runtime's. */
const RUNTIME_PATH = "/api/copilotkit";
const UNLICENSED_RUNTIME_PATH = "/api/unlicensed";

const sel = {
  status: '[data-testid="runtime-status"]',
  page: '[data-testid="page"]',
  textarea: '[data-testid="copilot-chat-textarea"]',
  stop: '[data-testid="copilot-send-button"] svg.lucide-square',
  user: '[data-testid="copilot-user-message"]',
  assistant: '[data-testid="copilot-assistant-message"]',
  // Playwright's CSS engine pierces the drawer's open shadow root.
  drawer: '[data-testid="copilot-threads-drawer"]',
  drawerLocked: '[data-testid="copilot-threads-drawer"] [data-testid="drawer-licensed"]',
  drawerError: '[data-testid="copilot-threads-drawer"] [data-testid="drawer-error"]',
  drawerEmpty: '[data-testid="copilot-threads-drawer"] [data-testid="drawer-empty"]',
  newThread: '[data-testid="copilot-threads-drawer"] [part="new-thread-button"]',
  row: (threadId: string) => `[data-testid="copilot-threads-drawer"] li[data-thread-id="${threadId}"]`,
  /** CopilotKit's LicenseWarningBanner has no test id; every variant links to a CopilotKit pricing or dashboard page. */
  licenceBannerLink: 'a[href*="copilotkit.ai/pricing"], a[href*="dashboard.operations.copilotkit.ai"]',
};

/** Where held runs wait: each `release()` lets the runs waiting now go on; later ones wait again. */
class Gate {
  private waiting: Array<() => void> = [];
  private closed = false;
  /** Runs waiting right now. */
  get held(): number {
    return this.waiting.length;
  }
  wait(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    for (const resolve of this.waiting.splice(0)) resolve();
  }
  /** Releases everything, now and later (teardown). */
  close(): void {
    this.closed = true;
    this.release();
  }
}

/** Echoes the user's text in a reply of several words, one event each, so it visibly streams; "hold" holds it after the first word. */
function echoSlowly(gate: Gate): Script {
  return (input) => {
    const text = lastUserText(input);
    const reply = `You said: ${text}. This reply streams word by word from the scripted agent.`;
    return textReply(reply, text.includes("hold") ? { pauseAfterFirstWord: () => gate.wait() } : {})(input);
  };
}

type FetchHandler = (request: Request) => Promise<Response>;

/** What a suite needs from a runtime: a fetch handler under `basePath`, in Intelligence mode over `apiUrl`/`wsUrl`. */
interface RuntimeSetup {
  apiUrl: string;
  wsUrl: string;
  basePath: string;
  agents: Record<string, ScriptedAgent>;
  identifyUser: (request: Request) => { id: string; name: string };
}
type RuntimeFactory = (setup: RuntimeSetup) => Promise<FetchHandler>;

/** CopilotKit's 1.75 runtime. */
const copilotKitRuntime: RuntimeFactory = async ({ apiUrl, wsUrl, basePath, agents, identifyUser }) => {
  disableCopilotKitTelemetry();
  const v2: any = await import("@copilotkit/runtime/v2");
  const intelligence = new v2.CopilotKitIntelligence({ apiUrl, wsUrl, apiKey: API_KEY });
  const runtime = new v2.CopilotRuntime({ intelligence, agents, identifyUser, generateThreadNames: false });
  return v2.createCopilotRuntimeHandler({ runtime, basePath });
};

/** Our runtime: `CopilotRuntime({ intelligence })` with our `CopilotKitIntelligence`. */
const ourRuntime: RuntimeFactory = async ({ apiUrl, wsUrl, basePath, agents, identifyUser }) => {
  const intelligence = new CopilotKitIntelligence({ apiUrl, wsUrl, apiKey: API_KEY });
  const runtime = new CopilotRuntime({ intelligence, agents, identifyUser, generateThreadNames: false });
  return createCopilotRuntimeHandler({ runtime, basePath });
};

/** The platform's REST API with the entitlement endpoint missing (a platform that never implemented E1). */
async function serveWithoutEntitlements(target: ServedIntelligencePlatform): Promise<{ server: Server; apiUrl: string }> {
  const server = createServer(async (req, res) => {
    const request = toWebRequest(req, res);
    const response = new URL(request.url).pathname.startsWith("/api/entitlements/")
      ? Response.json({ error: "not_found", message: "No such endpoint" }, { status: 404 })
      : await target.platform.fetch(request);
    await sendWebResponse(res, response);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, apiUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** The page reads its user from `?user=` and sends it as `x-user` (a demo stand-in for a session). */
function identifyUser(request: Request) {
  const id = request.headers.get("x-user") ?? "anonymous";
  return { id, name: id };
}

let dist: string;
let browser: Browser;

beforeAll(async () => {
  if (process.env.SKIP_E2E === "1") return;
  dist = await buildExample();
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close();
});

async function waitConnected(target: Page): Promise<void> {
  await target.waitForSelector(`${sel.status}[data-status="connected"]`, { timeout: UI_TIMEOUT });
}

async function send(target: Page, text: string): Promise<void> {
  await target.fill(sel.textarea, text);
  await target.press(sel.textarea, "Enter");
}

async function texts(target: Page, selector: string): Promise<string[]> {
  return target.$$eval(selector, (nodes) => nodes.map((node) => (node.textContent ?? "").trim()));
}

/** Waits until some message matching `selector` contains `text`. */
async function waitForText(target: Page, selector: string, text: string): Promise<void> {
  await target.waitForFunction(
    ([s, expected]) => Array.from(document.querySelectorAll(s)).some((node) => (node.textContent ?? "").includes(expected)),
    [selector, text] as const,
    { timeout: UI_TIMEOUT },
  );
}

/** Waits until no run is in progress (the send button is no longer a stop button). */
async function waitIdle(target: Page): Promise<void> {
  await target.waitForSelector(sel.stop, { state: "detached", timeout: UI_TIMEOUT });
}

async function activeThread(target: Page): Promise<string> {
  return (await target.getAttribute(sel.page, "data-thread-id")) ?? "";
}

/** The drawer's rows, in display order (most recent first). */
async function drawerRows(target: Page): Promise<string[]> {
  return target.$$eval(`${sel.drawer} li[data-thread-id]`, (nodes) => nodes.map((node) => node.getAttribute("data-thread-id") ?? ""));
}

/** True when CopilotKit shows a LicenseWarningBanner (any variant) on the page. */
async function licenceBannerShown(target: Page): Promise<boolean> {
  const links = await target.$$(sel.licenceBannerLink);
  const text = await target.evaluate(() => document.body.innerText);
  return links.length > 0 || /Powered by CopilotKit|CopilotKit license/i.test(text);
}

const describeE2e = process.env.SKIP_E2E === "1" ? describe.skip : describe;

/**
 * The whole story against one runtime: its own platform (SQLite), page origin, browser context and
 * agent; one user's session through the tests in order.
 */
function describeThreadsPage(runtimeName: string, createRuntime: RuntimeFactory): void {
  describeE2e(`CopilotKit's React chat and threads drawer in Chromium, Intelligence mode: ${runtimeName} on our platform`, () => {
    const label = runtimeName.replace(/\W+/g, "-").replace(/^-|-$/g, "").toLowerCase();
    const gate = new Gate();
    const consoleLines: string[] = [];
    /** Every runtime response the first tab received, in order. */
    const runtimeResponses: PwResponse[] = [];
    let store: SqliteIntelligenceStore;
    let platform: ServedIntelligencePlatform;
    let unlicensedApi: Server | undefined;
    let site: StaticServer;
    let context: BrowserContext;
    let page: Page;

    beforeAll(async () => {
      store = new SqliteIntelligenceStore();
      const handlers: Record<string, FetchHandler> = {};
      site = await startStaticServer(dist, "127.0.0.1", {
        prefix: "/api",
        fetch: (request) => {
          const { pathname } = new URL(request.url);
          const handler = handlers[pathname.startsWith(UNLICENSED_RUNTIME_PATH) ? UNLICENSED_RUNTIME_PATH : RUNTIME_PATH];
          return handler ? handler(request) : Promise.resolve(Response.json({ error: "not_found" }, { status: 404 }));
        },
      });
      platform = await serveIntelligencePlatform({
        store,
        apiKeys: [API_KEY],
        tokenSecret: TOKEN_SECRET,
        clientOrigins: [site.origin],
        logger: quietLogger(),
        sweepIntervalMs: 500,
      });
      const agents = () => ({ default: new ScriptedAgent({ script: echoSlowly(gate), delayMs: 40 }) });
      handlers[RUNTIME_PATH] = await createRuntime({ apiUrl: platform.apiUrl, wsUrl: platform.wsUrl, basePath: RUNTIME_PATH, agents: agents(), identifyUser });
      const unlicensed = await serveWithoutEntitlements(platform);
      unlicensedApi = unlicensed.server;
      handlers[UNLICENSED_RUNTIME_PATH] = await createRuntime({
        apiUrl: unlicensed.apiUrl,
        wsUrl: platform.wsUrl,
        basePath: UNLICENSED_RUNTIME_PATH,
        agents: agents(),
        identifyUser,
      });

      context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
      page = await openTab(context);
      page.on("response", (response) => {
        if (response.url().startsWith(`${site.origin}${RUNTIME_PATH}`)) runtimeResponses.push(response);
      });
    }, 60_000);

    afterAll(async () => {
      gate.release();
      await context?.close();
      await site?.close();
      if (unlicensedApi) {
        unlicensedApi.closeAllConnections();
        await new Promise<void>((resolve) => unlicensedApi!.close(() => resolve()));
      }
      await platform?.close();
      await store?.close();
    });

    async function openTab(target: BrowserContext): Promise<Page> {
      const tab = await target.newPage();
      const name = `tab${target.pages().length}`;
      tab.on("console", (message) => consoleLines.push(`[${name} ${message.type()}] ${message.text()}`));
      tab.on("pageerror", (error) => consoleLines.push(`[${name} pageerror] ${error.message}`));
      return tab;
    }

    /** Saves a screenshot of every open tab and prints the pages' console when the current test fails. */
    function recordFailure(test: string): void {
      onTestFailed(async () => {
        mkdirSync(RESULTS_DIR, { recursive: true });
        const tabs = context?.pages() ?? [];
        await Promise.all(tabs.map((tab, i) => tab.screenshot({ path: `${RESULTS_DIR}/intelligence-${label}-${test}-tab${i + 1}.png`, fullPage: true }).catch(() => {})));
        console.error(`Browser console (last 60 lines):\n${consoleLines.slice(-60).join("\n")}`);
      });
    }

    function pageUrl(threadId: string, options: { user?: string; runtimePath?: string } = {}): string {
      const query = new URLSearchParams({
        mode: "intelligence",
        runtimeUrl: `${site.origin}${options.runtimePath ?? RUNTIME_PATH}`,
        thread: threadId,
        user: options.user ?? "alice",
      });
      return `${site.origin}/?${query}`;
    }

    const stamp = Date.now();
    /** The first message; "hold" holds its reply after one word (see echoSlowly). */
    const FIRST = "Hello platform, hold on";
    const firstThread = `first-${stamp}`;
    let secondThread = "";

    it("opens with the drawer unlocked (no upsell) and no licence banner: /info reports the platform's entitlement", async () => {
      recordFailure("unlocked");
      await page.goto(pageUrl(firstThread));
      await waitConnected(page);
      expect(await page.getAttribute(sel.status, "data-agents")).toBe("default");

      const info = runtimeResponses.find((r) => r.request().method() === "GET" && r.url() === `${site.origin}${RUNTIME_PATH}/info`);
      expect(info?.status()).toBe(200);
      const body = await info!.json();
      expect(body.mode).toBe("intelligence");
      expect(body.licenseStatus).toBe("valid");
      expect(body.intelligence.wsUrl).toBe(`${platform.wsUrl}/client`);

      // Settled on the (empty) list: a locked drawer shows its upsell in place of the list, and never fetches one.
      await page.waitForSelector(sel.drawerEmpty, { timeout: UI_TIMEOUT });
      expect(await page.$(sel.drawerLocked)).toBeNull();
      expect(await page.$(sel.drawerError)).toBeNull();
      expect(await page.isVisible(sel.newThread)).toBe(true);
      expect(await licenceBannerShown(page)).toBe(false);
      expect(runtimeResponses.some((r) => r.url().startsWith(`${site.origin}${RUNTIME_PATH}/threads?`) && r.status() === 200)).toBe(true);
    });

    it("streams the reply into the chat, and the drawer lists the new thread as the active one", async () => {
      recordFailure("stream");
      await send(page, FIRST);
      // The agent is held after its first word: the chat already shows it while the run goes on.
      await waitForText(page, sel.assistant, "You");
      expect(gate.held).toBe(1);
      expect((await texts(page, sel.assistant))[0]).not.toContain("said");
      expect(await page.isVisible(sel.stop)).toBe(true);

      gate.release();
      await waitForText(page, sel.assistant, "from the scripted agent.");
      await waitIdle(page);
      expect(await texts(page, sel.assistant)).toEqual([`You said: ${FIRST}. This reply streams word by word from the scripted agent.`]);
      expect(await texts(page, sel.user)).toEqual([FIRST]);
      expect(runtimeResponses.some((r) => r.url() === `${site.origin}${RUNTIME_PATH}/agent/default/run` && r.status() === 200)).toBe(true);

      await page.waitForSelector(sel.row(firstThread), { timeout: UI_TIMEOUT });
      expect(await page.getAttribute(sel.row(firstThread), "aria-selected")).toBe("true");
      expect(await page.$(sel.drawerLocked)).toBeNull();
      expect(await licenceBannerShown(page)).toBe(false);
      // The platform holds it for this user, and for no one else.
      const lookup = (user: string) =>
        fetch(`${platform.apiUrl}/api/threads/${firstThread}?userId=${user}`, { headers: { authorization: `Bearer ${API_KEY}` } });
      const mine = await lookup("alice");
      expect(mine.status).toBe(200);
      expect((await mine.json()).thread).toMatchObject({ id: firstThread, agentId: "default", createdById: "alice" });
      expect((await lookup("bob")).status).toBe(404);
    });

    it("starts a second thread from the drawer, then switching back restores the first thread's messages", async () => {
      recordFailure("switch");
      await page.click(sel.newThread);
      await page.waitForFunction(([s, first]) => document.querySelector(s)?.getAttribute("data-thread-id") !== first, [sel.page, firstThread] as const, {
        timeout: UI_TIMEOUT,
      });
      secondThread = await activeThread(page);
      expect(secondThread).not.toBe("");
      await page.waitForSelector(sel.user, { state: "detached", timeout: UI_TIMEOUT });

      await send(page, "A second conversation");
      await waitForText(page, sel.assistant, "You said: A second conversation.");
      await waitIdle(page);
      await page.waitForSelector(sel.row(secondThread), { timeout: UI_TIMEOUT });
      expect(await drawerRows(page)).toEqual(expect.arrayContaining([firstThread, secondThread]));
      expect(await texts(page, sel.user)).toEqual(["A second conversation"]);

      await page.click(sel.row(firstThread));
      await page.waitForFunction(([s, first]) => document.querySelector(s)?.getAttribute("data-thread-id") === first, [sel.page, firstThread] as const, {
        timeout: UI_TIMEOUT,
      });
      await waitForText(page, sel.user, FIRST);
      await waitForText(page, sel.assistant, `You said: ${FIRST}.`);
      expect(await texts(page, sel.user)).toEqual([FIRST]);
      const assistants = await texts(page, sel.assistant);
      expect(assistants).toHaveLength(1);
      expect(assistants[0]).toContain("from the scripted agent.");
      expect(await page.getAttribute(sel.row(firstThread), "aria-selected")).toBe("true");

      // And back to the second one: its own conversation, nothing of the first.
      await page.click(sel.row(secondThread));
      await waitForText(page, sel.user, "A second conversation");
      expect(await texts(page, sel.user)).toEqual(["A second conversation"]);

      // The page keeps the active thread in its URL: a reload comes back to it, replayed from the platform.
      await page.reload();
      await waitConnected(page);
      expect(await activeThread(page)).toBe(secondThread);
      await waitForText(page, sel.assistant, "You said: A second conversation.");
      expect(await texts(page, sel.user)).toEqual(["A second conversation"]);
      await page.waitForSelector(sel.row(firstThread), { timeout: UI_TIMEOUT });
    });

    it("a run started in a second tab appears live in the first tab's drawer", async () => {
      recordFailure("second-tab-list");
      const thirdThread = `third-${stamp}`;
      const rowsBefore = await drawerRows(page);
      expect(rowsBefore).not.toContain(thirdThread);
      const listFetches = () => runtimeResponses.filter((r) => r.url().startsWith(`${site.origin}${RUNTIME_PATH}/threads?`)).length;
      const listFetchesBefore = listFetches();

      const second = await openTab(context);
      try {
        await second.goto(pageUrl(thirdThread));
        await waitConnected(second);
        await send(second, "Sent from the second tab");
        await waitForText(second, sel.assistant, "You said: Sent from the second tab.");

        // No reload, no refetch by the first tab: the row arrives over its user_meta socket.
        await page.waitForSelector(sel.row(thirdThread), { timeout: UI_TIMEOUT });
        expect(await drawerRows(page)).toEqual(expect.arrayContaining([firstThread, secondThread, thirdThread]));
        expect(listFetches()).toBe(listFetchesBefore);
        // Most recent first (the drawer lives in a shadow root, which document.querySelector does not enter).
        await page.waitForFunction(
          ([drawer, id]) => document.querySelector(drawer)?.shadowRoot?.querySelector("li[data-thread-id]")?.getAttribute("data-thread-id") === id,
          [sel.drawer, thirdThread] as const,
          { timeout: UI_TIMEOUT },
        );
        // The first tab still shows its own thread.
        expect(await activeThread(page)).toBe(secondThread);
        expect(await texts(page, sel.user)).toEqual(["A second conversation"]);
      } finally {
        await second.close();
      }
    });

    it("a run started in a second tab on the thread the first tab shows streams into the first tab live", async () => {
      recordFailure("second-tab-thread");
      await page.click(sel.row(firstThread));
      await waitForText(page, sel.user, FIRST);
      await waitIdle(page);

      const second = await openTab(context);
      try {
        await second.goto(pageUrl(firstThread));
        await waitConnected(second);
        await waitForText(second, sel.assistant, `You said: ${FIRST}.`); // restored there too
        await send(second, "Please hold this one");

        // While the agent is held after its first word, the first tab already shows the new turn.
        await waitForText(page, sel.user, "Please hold this one");
        await page.waitForFunction(
          (selector) => {
            const messages = document.querySelectorAll(selector);
            return messages.length === 2 && (messages[1].textContent ?? "").includes("You");
          },
          sel.assistant,
          { timeout: UI_TIMEOUT },
        );
        expect(gate.held).toBe(1);
        // Only the first word so far: the run is still going on the other tab's request.
        expect((await texts(page, sel.assistant))[1]).not.toContain("said");

        gate.release();
        await waitForText(page, sel.assistant, "You said: Please hold this one. This reply streams word by word from the scripted agent.");
        await waitForText(second, sel.assistant, "You said: Please hold this one.");
        expect(await texts(page, sel.user)).toEqual([FIRST, "Please hold this one"]);
        expect(await texts(second, sel.user)).toEqual([FIRST, "Please hold this one"]);
        expect(await licenceBannerShown(page)).toBe(false);

        mkdirSync(RESULTS_DIR, { recursive: true });
        await page.screenshot({ path: `${RESULTS_DIR}/intelligence-${label}-threads.png`, fullPage: true });
      } finally {
        await second.close();
      }
    });

    it("control: against a platform without the entitlement endpoint, the same page shows the locked drawer and the licence banner", async () => {
      recordFailure("control");
      const other = await browser.newContext({ viewport: { width: 1200, height: 900 } });
      try {
        const locked = await other.newPage();
        await locked.goto(pageUrl(`control-${stamp}`, { runtimePath: UNLICENSED_RUNTIME_PATH }));
        await waitConnected(locked);
        await locked.waitForSelector(sel.drawerLocked, { timeout: UI_TIMEOUT });
        expect(await licenceBannerShown(locked)).toBe(true);
        expect(await locked.$(sel.newThread)).toBeNull();
      } finally {
        await other.close();
      }
    });
  });
}

describeThreadsPage("CopilotKit's 1.75 runtime", copilotKitRuntime);
describeThreadsPage("our runtime", ourRuntime);
