/**
 * Mounting inside a larger Hono app: the endpoint answers at framework route + basePath and
 * leaves every other path to the parent app.
 */
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { createCopilotEndpoint, createCopilotEndpointSingleRoute } from "../../src/adapters/hono.js";
import { DemoAgent } from "../../src/agents/demo.js";
import { CopilotRuntime } from "../../src/runtime.js";

const runtime = () => new CopilotRuntime({ agents: { default: new DemoAgent({ wordDelayMs: 1 }) } });
const envelope = (body: unknown) => ({ method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });

describe("createCopilotEndpoint inside a larger Hono app", () => {
  it("keeps the parent's own routes, registered before or after the endpoint", async () => {
    const app = new Hono();
    app.get("/health", (c) => c.text("ok"));
    app.route("/api", createCopilotEndpoint({ runtime: runtime(), basePath: "/copilotkit" }));
    app.get("/api/users", (c) => c.json(["ada"]));

    expect(await (await app.request("/health")).text()).toBe("ok");
    expect(await (await app.request("/api/users")).json()).toEqual(["ada"]);
    expect((await app.request("/api/copilotkit/info")).status).toBe(200);
  });

  it("does not claim paths that only share a prefix with basePath", async () => {
    const app = new Hono();
    app.route("/api", createCopilotEndpoint({ runtime: runtime(), basePath: "/copilotkit" }));
    app.get("/api/copilotkit-admin", (c) => c.text("admin"));

    expect(await (await app.request("/api/copilotkit-admin")).text()).toBe("admin");
    const outside = await app.request("/api/elsewhere");
    expect(outside.status).toBe(404);
    expect(outside.headers.get("content-type") ?? "").not.toContain("application/json");
  });

  it("answers at prefix + basePath with a parameterised prefix (/t/:tenant)", async () => {
    const app = new Hono();
    app.route("/t/:tenant", createCopilotEndpoint({ runtime: runtime(), basePath: "/copilotkit" }));

    const info = await app.request("/t/acme/copilotkit/info");
    expect(info.status).toBe(200);
    expect((await info.json()).agents.default.name).toBe("default");
    const viaEnvelope = await app.request("/t/acme/copilotkit", envelope({ method: "info" }));
    expect(viaEnvelope.status).toBe(200);
  });

  it("answers other paths with a JSON 404 when served on its own", async () => {
    const app = createCopilotEndpoint({ runtime: runtime(), basePath: "/api/copilotkit" });
    const response = await app.request("/elsewhere");
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: "Not found" });
  });

  it("answers at basePath, trailing slash or not, when mounted at the root", async () => {
    const app = new Hono();
    app.route("/", createCopilotEndpoint({ runtime: runtime(), basePath: "/api/copilotkit" }));

    expect((await app.request("/api/copilotkit/info")).status).toBe(200);
    expect((await app.request("/api/copilotkit/info/")).status).toBe(200);
    expect((await app.request("/api/copilotkit/", envelope({ method: "info" }))).status).toBe(200);
  });

  it("serves only the envelope with createCopilotEndpointSingleRoute under a prefix", async () => {
    const app = new Hono();
    app.route("/api", createCopilotEndpointSingleRoute({ runtime: runtime(), basePath: "/copilotkit" }));

    const info = await app.request("/api/copilotkit", envelope({ method: "info" }));
    expect(info.status).toBe(200);
    expect((await info.json()).threadEndpoints.list).toBe(false);
    // The REST route is not served: a GET under basePath is 405 (Allow: POST), as in CopilotKit 1.75.
    expect((await app.request("/api/copilotkit/info")).status).toBe(405);
    expect((await app.request("/api/elsewhere/info")).status).toBe(404);
  });
});
