/**
 * The Next.js App Router pattern as a user writes it: `app/api/copilotkit/[...slug]/route.ts`
 * exporting GET, POST, PATCH, DELETE and OPTIONS. Next.js calls the export named after the
 * method with a `Request` whose URL is the full public URL (catch-all segments included) and a
 * `{ params }` context the handlers never need.
 */
import { describe, expect, it } from "vitest";
import * as route from "./fixtures/next-app/app/api/copilotkit/[...slug]/route.js";
import { createCopilotNextHandlers } from "../../src/adapters/next.js";
import { CopilotRuntime, DemoAgent } from "../../src/index.js";
import { userRunInput, SseReader } from "./support.js";

const ORIGIN = "http://localhost:3000";
const context = (slug: string[]) => ({ params: Promise.resolve({ slug }) });
const json = { "Content-Type": "application/json" };

/** What Next.js does for `app/api/copilotkit/[...slug]`: route by method, pass the full URL. */
function call(method: "GET" | "POST" | "PATCH" | "DELETE" | "OPTIONS", path: string, init: RequestInit = {}) {
  const slug = path.replace(/^\/api\/copilotkit\/?/, "").split("/").filter(Boolean);
  const handler = route[method] as (request: Request, ctx: unknown) => Promise<Response>;
  return handler(new Request(`${ORIGIN}${path}`, { method, ...init }), context(slug));
}

describe("Next.js App Router route: app/api/copilotkit/[...slug]/route.ts", () => {
  it("exports a handler for GET, POST, PATCH, DELETE and OPTIONS", () => {
    for (const method of ["GET", "POST", "PATCH", "DELETE", "OPTIONS"] as const) expect(typeof route[method]).toBe("function");
  });

  it("GET /api/copilotkit/info lists the agents (one catch-all segment)", async () => {
    const response = await call("GET", "/api/copilotkit/info");
    expect(response.status).toBe(200);
    expect((await response.json()).agents.default.className).toBe("DemoAgent");
  });

  it("POST /api/copilotkit/agent/default/run streams a reply (three catch-all segments)", async () => {
    const response = await call("POST", "/api/copilotkit/agent/default/run", {
      headers: json,
      body: JSON.stringify(userRunInput("next-thread", "hello from next")),
    });
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const events = await new SseReader(response).rest();
    const text = events.filter((e) => e.type === "TEXT_MESSAGE_CONTENT").map((e) => e.delta).join("");
    expect(text).toContain('You said: "hello from next"');
    expect(events.at(-1)?.type).toBe("RUN_FINISHED");
  });

  it("POST stop with the thread id as the last catch-all segment", async () => {
    const response = await call("POST", "/api/copilotkit/agent/default/stop/next-thread", { headers: json });
    expect(await response.json()).toMatchObject({ stopped: false });
  });

  it("PATCH and DELETE /api/copilotkit/threads/:id rename and delete the thread", async () => {
    const renamed = await call("PATCH", "/api/copilotkit/threads/next-thread", { headers: json, body: JSON.stringify({ name: "Renamed" }) });
    expect(renamed.status).toBe(200);
    expect(await renamed.json()).toMatchObject({ name: "Renamed" });
    const deleted = await call("DELETE", "/api/copilotkit/threads/next-thread", { headers: json, body: "{}" });
    expect(deleted.ok).toBe(true);
    const again = await call("PATCH", "/api/copilotkit/threads/next-thread", { headers: json, body: JSON.stringify({ name: "x" }) });
    expect(again.status).toBe(404);
  });

  it("with [[...slug]], the bare POST /api/copilotkit answers the single-route envelope", async () => {
    const response = await call("POST", "/api/copilotkit", { headers: json, body: JSON.stringify({ method: "info" }) });
    expect(response.status).toBe(200);
    expect((await response.json()).agents.default.name).toBe("default");
  });

  it("answers a path outside the route's basePath with a JSON 404, not a crash", async () => {
    const response = await route.GET(new Request(`${ORIGIN}/api/other/info`));
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: "Not found" });
  });
});

describe("createCopilotNextHandlers with hooks", () => {
  it("an onRequest auth gate answers 401 on every exported method; an authorised request is served", async () => {
    const handlers = createCopilotNextHandlers({
      runtime: new CopilotRuntime({ agents: { default: new DemoAgent() } }),
      basePath: "/api/copilotkit",
      hooks: {
        onRequest: ({ request }) => {
          if (request.headers.get("authorization") !== "Bearer good") throw new Response("Unauthorized", { status: 401 });
        },
      },
    });
    const denied = await handlers.GET(new Request(`${ORIGIN}/api/copilotkit/info`));
    expect(denied.status).toBe(401);
    expect(await denied.text()).toBe("Unauthorized");
    const run = await handlers.POST(
      new Request(`${ORIGIN}/api/copilotkit/agent/default/run`, { method: "POST", headers: json, body: JSON.stringify(userRunInput("next-hooks", "hi")) }),
    );
    expect(run.status).toBe(401);
    const allowed = await handlers.GET(new Request(`${ORIGIN}/api/copilotkit/info`, { headers: { authorization: "Bearer good" } }));
    expect(allowed.status).toBe(200);
  });
});
