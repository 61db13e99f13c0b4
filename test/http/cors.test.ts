import { describe, expect, it } from "vitest";
import { createCors } from "../../src/http/cors.js";
import { makeHandler } from "../helpers/handler.js";

const preflight = (origin: string, method: string, headers = "content-type, authorization") =>
  new Request("http://localhost/api/copilotkit/agent/default/run", {
    method: "OPTIONS",
    headers: { origin, "access-control-request-method": method, "access-control-request-headers": headers },
  });

describe("CORS", () => {
  it("is off by default on the fetch handler", async () => {
    const { handler } = makeHandler();
    const response = await handler(new Request("http://localhost/api/copilotkit/info", { headers: { origin: "https://a.example" } }));
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("permissive mode: `*`, no credentials, on preflight and on responses", async () => {
    const { handler } = makeHandler({}, { cors: true });
    for (const method of ["GET", "POST", "PATCH", "DELETE"]) {
      const response = await handler(preflight("https://a.example", method));
      expect(response.status).toBe(204);
      expect(response.headers.get("access-control-allow-origin")).toBe("*");
      expect(response.headers.get("access-control-allow-methods")).toContain(method);
      expect(response.headers.get("access-control-allow-credentials")).toBeNull();
    }
    const get = await handler(new Request("http://localhost/api/copilotkit/info", { headers: { origin: "https://a.example" } }));
    expect(get.headers.get("access-control-allow-origin")).toBe("*");
  });

  it("explicit origins with credentials: echoes only allowed origins, with Vary: Origin and the requested headers", async () => {
    const { handler } = makeHandler({}, { cors: { origin: ["https://app.example"], credentials: true } });
    const allowed = await handler(preflight("https://app.example", "POST", "content-type, x-tenant"));
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(allowed.headers.get("access-control-allow-credentials")).toBe("true");
    expect(allowed.headers.get("access-control-allow-headers")).toBe("content-type, x-tenant");
    expect(allowed.headers.get("vary")).toContain("Origin");

    const refused = await handler(preflight("https://evil.example", "POST"));
    expect(refused.headers.get("access-control-allow-origin")).toBeNull();
    expect(refused.headers.get("access-control-allow-credentials")).toBeNull();

    const response = await handler(new Request("http://localhost/api/copilotkit/info", { headers: { origin: "https://evil.example" } }));
    expect(response.status).toBe(200);
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
    expect(response.headers.get("vary")).toContain("Origin");
  });

  it("puts CORS headers on event streams and error responses too", async () => {
    const { handler } = makeHandler({}, { cors: { origin: "https://app.example", credentials: true } });
    const response = await handler(
      new Request("http://localhost/api/copilotkit/agent/missing/run", { method: "POST", headers: { origin: "https://app.example" }, body: "{}" }),
    );
    expect(response.status).toBe(404);
    expect(response.headers.get("access-control-allow-origin")).toBe("https://app.example");
  });

  it("refuses a wildcard origin with credentials at start-up", () => {
    expect(() => createCors({ origin: "*", credentials: true })).toThrow(/explicit origins/);
  });

  it("accepts an origin function", async () => {
    const { handler } = makeHandler({}, { cors: { origin: (o) => (o.endsWith(".example") ? o : null), credentials: true } });
    const ok = await handler(preflight("https://x.example", "POST"));
    expect(ok.headers.get("access-control-allow-origin")).toBe("https://x.example");
    const no = await handler(preflight("https://x.test", "POST"));
    expect(no.headers.get("access-control-allow-origin")).toBeNull();
  });
});
