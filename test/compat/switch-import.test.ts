/**
 * "Switching is an import change", as a test: the same app module (test/compat/fixtures/switch-app.ts,
 * written from CopilotKit's docs: hooks, before/after middleware, an agent, credentialed CORS) is
 * started once importing `@copilotkit/runtime` and once importing `copilot-runtime`, in each of its
 * Hono, Express and Node flavours, and both must behave the same over HTTP: statuses, bodies, SSE
 * event types, CORS headers and the hooks called. Imports `copilot-runtime/v2...` by its public
 * specifier, so it needs `dist/` (`npm test` builds it; alone: `npx tsup` first).
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ScriptedAgent, textReply } from "../helpers/agents.js";
import { disableCopilotKitTelemetry, runBody, sseEventTypes } from "../helpers/runtimes.js";
import { APP_ORIGIN, BASE_PATH, type Flavour, startSwitchApp, type SwitchApp, TOKEN } from "./fixtures/switch-app.js";

const PACKAGES = ["@copilotkit/runtime", "copilot-runtime"] as const;
const root = fileURLToPath(new URL("../..", import.meta.url));

/** What a client sees of one exchange, in the parts switching must not change. */
async function observe(response: Response) {
  const type = response.headers.get("content-type")?.split(";")[0];
  const text = await response.text();
  let body: unknown = text;
  if (type === "text/event-stream") body = sseEventTypes(text);
  else if (type === "application/json") body = JSON.parse(text);
  return {
    status: response.status,
    type,
    body,
    app: response.headers.get("x-app"),
    allowOrigin: response.headers.get("access-control-allow-origin"),
    allowCredentials: response.headers.get("access-control-allow-credentials"),
  };
}

/** The scenario a user's frontend plays against the app; returns everything observable. */
async function play(app: SwitchApp) {
  const auth = { authorization: `Bearer ${TOKEN}`, origin: APP_ORIGIN };
  const preflight = await fetch(`${app.url}${BASE_PATH}/agent/default/run`, {
    method: "OPTIONS",
    headers: { origin: APP_ORIGIN, "access-control-request-method": "POST", "access-control-request-headers": "authorization,content-type" },
  });
  const denied = await observe(await fetch(`${app.url}${BASE_PATH}/info`, { headers: { origin: APP_ORIGIN } }));
  const info = await observe(await fetch(`${app.url}${BASE_PATH}/info`, { headers: auth }));
  const run = await observe(
    await fetch(`${app.url}${BASE_PATH}/agent/default/run`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: runBody("t-switch", "r-switch"),
    }),
  );
  await vi.waitFor(() => expect(app.log.filter((entry) => entry[0] === "afterRequestMiddleware")).toHaveLength(2));
  const infoBody = info.body as { agents?: Record<string, unknown> };
  return {
    preflight: {
      status: preflight.status,
      allowOrigin: preflight.headers.get("access-control-allow-origin"),
      allowCredentials: preflight.headers.get("access-control-allow-credentials"),
    },
    denied,
    // /info's content differs in fields unrelated to switching (versions, feature flags): compare its agents.
    info: { ...info, body: Object.keys(infoBody.agents ?? {}) },
    run,
    log: app.log,
  };
}

beforeAll(() => {
  disableCopilotKitTelemetry();
  expect(existsSync(`${root}/dist/index.js`), "dist/ is missing: run `npx tsup` (npm test builds it)").toBe(true);
});

describe.each<Flavour>(["hono", "express", "node"])("the %s app, switched by its import only", (flavour) => {
  const apps: SwitchApp[] = [];
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
  });

  it("behaves the same against @copilotkit/runtime and copilot-runtime", async () => {
    const seen = [];
    for (const pkg of PACKAGES) {
      const app = await startSwitchApp(pkg, flavour, new ScriptedAgent({ script: textReply("Hello there") }));
      apps.push(app);
      seen.push(await play(app));
    }
    const [theirs, ours] = seen;

    expect(theirs.preflight).toEqual({ status: 204, allowOrigin: APP_ORIGIN, allowCredentials: "true" });
    expect(theirs.denied).toEqual({
      status: 401,
      type: "application/json",
      body: { error: "unauthorized" },
      // onResponse sees a thrown Response too, so its header is there.
      app: "demo",
      allowOrigin: APP_ORIGIN,
      allowCredentials: "true",
    });
    expect(theirs.info).toMatchObject({ status: 200, body: ["default"], app: "demo", allowOrigin: APP_ORIGIN });
    expect(theirs.run).toMatchObject({
      status: 200,
      type: "text/event-stream",
      body: ["RUN_STARTED", "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END", "RUN_FINISHED"],
      app: "demo",
      allowOrigin: APP_ORIGIN,
    });
    expect(theirs.log).toEqual([
      ["onRequest", "GET", `${BASE_PATH}/info`],
      ["onResponse", { method: "info" }, 401],
      ["onRequest", "GET", `${BASE_PATH}/info`],
      ["beforeRequestMiddleware", `${BASE_PATH}/info`],
      ["onBeforeHandler", { method: "info" }],
      ["onResponse", { method: "info" }, 200],
      ["afterRequestMiddleware", `${BASE_PATH}/info`, 200, undefined],
      ["onRequest", "POST", `${BASE_PATH}/agent/default/run`],
      ["beforeRequestMiddleware", `${BASE_PATH}/agent/default/run`],
      ["onBeforeHandler", { method: "agent/run", agentId: "default" }],
      ["onResponse", { method: "agent/run", agentId: "default" }, 200],
      ["afterRequestMiddleware", `${BASE_PATH}/agent/default/run`, 200, "t-switch"],
    ]);
    expect(ours).toEqual(theirs);
  });
});
