import { request as httpRequest } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { createApiKeyRegistry, parseApiKey } from "../../src/intelligence/api-keys.js";
import { createJoinTokens } from "../../src/intelligence/join-tokens.js";
import { createIntelligencePlatform, serveIntelligencePlatform } from "../../src/intelligence/index.js";
import { MemoryIntelligenceStore } from "../../src/intelligence/store/memory.js";
import { API_KEY, TOKEN_SECRET, TestClock, quietLogger } from "../helpers/intelligence.js";

const base = () => ({ store: new MemoryIntelligenceStore(), apiKeys: [API_KEY], tokenSecret: TOKEN_SECRET, logger: quietLogger() });

describe("API keys", () => {
  it("parses cpk-<projectId>_<secret> and rejects other shapes", () => {
    expect(parseApiKey("cpk-42_abc_def")).toEqual({ projectId: "42", secret: "abc_def" });
    for (const bad of ["cpk-0_x", "cpk-x_y", "cpk-1_", "sk-1_x", "cpk-1"]) expect(parseApiKey(bad)).toBeNull();
  });

  it("authenticates only configured keys, to their project", () => {
    const keys = createApiKeyRegistry(["cpk-1_one", "cpk-2_two"]);
    expect(keys.authenticate("cpk-2_two")).toEqual({ projectId: "2" });
    expect(keys.authenticate("cpk-2_one")).toBeNull();
    expect(keys.authenticate("cpk-1_on")).toBeNull();
    expect(keys.authenticate(null)).toBeNull();
    expect(() => createApiKeyRegistry([])).toThrow(TypeError);
    expect(() => createApiKeyRegistry(["not-a-key"])).toThrow(TypeError);
  });
});

describe("join tokens", () => {
  it("verify while unexpired, are reusable, and reject tampering, other secrets and expiry", () => {
    const clock = new TestClock();
    const tokens = createJoinTokens({ secret: "s1", now: clock.now, threadTtlMs: 1_000, userMetaTtlMs: 5_000 });
    const token = tokens.issue({ project: "1", userId: "u", topic: "thread:t", runId: "r" });
    expect(tokens.verify(token)).toMatchObject({ project: "1", userId: "u", topic: "thread:t", runId: "r", exp: clock.ms + 1_000 });
    expect(tokens.verify(token)).not.toBeNull(); // reusable within its TTL
    const [version, body, signature] = token.split(".");
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(body, "base64url").toString()), userId: "mallory" })).toString("base64url");
    expect(tokens.verify(`${version}.${forged}.${signature}`)).toBeNull();
    expect(createJoinTokens({ secret: "s2", now: clock.now }).verify(token)).toBeNull();
    const meta = tokens.issue({ project: "1", userId: "u", topic: "user_meta:code" });
    clock.advance(1_000);
    expect(tokens.verify(token)).toBeNull();
    expect(tokens.verify(meta)).not.toBeNull(); // user_meta tokens live longer
    expect(tokens.verify("garbage")).toBeNull();
  });

  it("warn when no secret is configured", () => {
    const warnings: string[] = [];
    createJoinTokens({ warn: (message) => warnings.push(message) });
    expect(warnings.join()).toMatch(/do not survive a restart/);
  });
});

describe("createIntelligencePlatform", () => {
  it("validates its options with TypeErrors", () => {
    const cases: Array<Record<string, unknown>> = [
      { store: undefined },
      { store: {} },
      { apiKeys: "cpk-1_x" },
      { apiKeys: ["nope"] },
      { tokenSecret: 42 },
      { clientOrigins: "https://a" },
      { clientOrigins: [1] },
      { lockTtlSeconds: { default: -1 } },
      { sweepIntervalMs: 0 },
      { clock: 5 },
      { bus: {} },
    ];
    for (const override of cases) expect(() => createIntelligencePlatform({ ...base(), ...override } as never), JSON.stringify(override)).toThrow(TypeError);
  });

  it("routes /api to REST, answers JSON 404 elsewhere, and leaves foreign upgrades alone", async () => {
    const platform = createIntelligencePlatform(base());
    try {
      const entitlement = await platform.fetch(new Request("http://p/api/entitlements/runtime", { headers: { authorization: `Bearer ${API_KEY}` } }));
      expect(entitlement.status).toBe(200);
      const missing = await platform.fetch(new Request("http://p/elsewhere"));
      expect(missing.status).toBe(404);
      expect(await missing.json()).toMatchObject({ error: "not_found" });
      expect(platform.handleUpgrade({ url: "/other/websocket" } as never, {} as never, Buffer.alloc(0))).toBe(false);
    } finally {
      await platform.close();
    }
  });
});

describe("serveIntelligencePlatform", () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  it("serves REST over HTTP, refuses runner sockets without the API key, and 404s unknown upgrades", async () => {
    const served = await serveIntelligencePlatform({ ...base(), port: 0 });
    close = served.close;
    expect(served.apiUrl).toBe(`http://127.0.0.1:${served.port}`);
    expect(served.wsUrl).toBe(`ws://127.0.0.1:${served.port}`);
    const unauthorized = await fetch(`${served.apiUrl}/api/threads?userId=u&agentId=a`);
    expect(unauthorized.status).toBe(401);
    const ok = await fetch(`${served.apiUrl}/api/entitlements/runtime`, { headers: { authorization: `Bearer ${API_KEY}` } });
    expect(await ok.json()).toMatchObject({ status: "ready" });

    const upgrade = (path: string, headers: Record<string, string> = {}) =>
      new Promise<number>((resolve, reject) => {
        const req = httpRequest({ host: "127.0.0.1", port: served.port, path, headers: { connection: "Upgrade", upgrade: "websocket", "sec-websocket-version": "13", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", ...headers } });
        req.on("response", (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on("upgrade", (res, socket) => {
          socket.destroy();
          resolve(res.statusCode ?? 0);
        });
        req.on("error", reject);
        req.end();
      });
    expect(await upgrade("/runner/websocket?vsn=2.0.0")).toBe(403);
    const bearer = `base64url.bearer.phx.${Buffer.from("cpk-7_wrong").toString("base64").replace(/=+$/, "")}`;
    expect(await upgrade("/runner/websocket?vsn=2.0.0", { "sec-websocket-protocol": `phoenix, ${bearer}` })).toBe(403);
    const good = `base64url.bearer.phx.${Buffer.from(API_KEY).toString("base64").replace(/=+$/, "")}`;
    expect(await upgrade("/runner/websocket?vsn=2.0.0", { "sec-websocket-protocol": `phoenix, ${good}` })).toBe(101);
    expect(await upgrade("/client/websocket?vsn=2.0.0&join_token=forged")).toBe(403);
    expect(await upgrade("/nowhere/websocket")).toBe(404);
  });
});
