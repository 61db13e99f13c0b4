/**
 * `serve --intelligence` decisions without spawning anything: flags, environment and config
 * section → the platform's settings; the path and worker checks; the config section's checks.
 */
import { describe, expect, it } from "vitest";
import { parseArgs } from "../../src/cli/args.js";
import { checkConfig } from "../../src/cli/config.js";
import { CliStartupError } from "../../src/cli/errors.js";
import {
  checkBasePath,
  inProcessPublicWsUrl,
  intelligenceUrlLines,
  intelligenceWorkers,
  isPlatformPath,
  redactApiKey,
  resolveIntelligence,
} from "../../src/cli/intelligence.js";
import { MemoryIntelligenceStore } from "../../src/intelligence/store/memory.js";

const KEY = "cpk-7_s3cret-value";
const env = { COPILOT_INTELLIGENCE_API_KEYS: KEY };

function startupError(run: () => unknown): CliStartupError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(CliStartupError);
    return error as CliStartupError;
  }
  throw new Error("expected a CliStartupError");
}

describe("serve --intelligence: flags", () => {
  it("--intelligence and --intelligence-only set the mode; together or with a value they are errors", () => {
    expect(parseArgs(["serve", "--intelligence"], {}).intelligence).toBe("beside");
    expect(parseArgs(["serve", "--intelligence-only"], {}).intelligence).toBe("only");
    expect(parseArgs(["serve"], {}).intelligence).toBeUndefined();
    expect(() => parseArgs(["serve", "--intelligence", "--intelligence-only"], {})).toThrow(/cannot be combined/);
    expect(() => parseArgs(["serve", "--intelligence=yes"], {})).toThrow(/--intelligence takes no value/);
  });
});

describe("serve --intelligence: settings", () => {
  it("is off without a flag or a config section, and with mode off unless a flag turns it on", () => {
    expect(resolveIntelligence(undefined, undefined, env, "/api/copilotkit")).toBeUndefined();
    expect(resolveIntelligence(undefined, { mode: "off", apiKeys: [KEY] }, {}, "/api/copilotkit")).toBeUndefined();
    expect(resolveIntelligence("beside", { mode: "off", apiKeys: [KEY] }, {}, "/api/copilotkit")?.mode).toBe("beside");
    expect(resolveIntelligence(undefined, { apiKeys: [KEY] }, {}, "/api/copilotkit")?.mode).toBe("beside");
    expect(resolveIntelligence(undefined, { mode: "only", apiKeys: [KEY] }, {}, "/api/copilotkit")?.mode).toBe("only");
    // A flag wins over the section's mode.
    expect(resolveIntelligence("beside", { mode: "only", apiKeys: [KEY] }, {}, "/api/copilotkit")?.mode).toBe("beside");
  });

  it("takes comma-separated keys and the secret from the environment over the config file", () => {
    const settings = resolveIntelligence(
      "beside",
      { apiKeys: ["cpk-1_from-config"], tokenSecret: "config-secret", clientOrigins: ["https://app.example.com"] },
      { COPILOT_INTELLIGENCE_API_KEYS: ` ${KEY} , cpk-8_other ,`, COPILOT_INTELLIGENCE_TOKEN_SECRET: "env-secret" },
      "/api/copilotkit",
    );
    expect(settings).toEqual({
      mode: "beside",
      apiKeys: [KEY, "cpk-8_other"],
      apiKeysFrom: "COPILOT_INTELLIGENCE_API_KEYS",
      tokenSecret: "env-secret",
      clientOrigins: ["https://app.example.com"],
    });
    const fromConfig = resolveIntelligence("beside", { apiKeys: ["cpk-1_from-config"], tokenSecret: "config-secret" }, { COPILOT_INTELLIGENCE_API_KEYS: "  " }, "/api/copilotkit");
    expect(fromConfig).toMatchObject({ apiKeys: ["cpk-1_from-config"], apiKeysFrom: "config", tokenSecret: "config-secret" });
    expect(resolveIntelligence("beside", undefined, env, "/api/copilotkit")?.tokenSecret).toBeUndefined();
  });

  it("refuses to start without keys, or with a key of the wrong shape, without printing the secret", () => {
    expect(startupError(() => resolveIntelligence("beside", undefined, {}, "/api/copilotkit")).message).toMatch(/needs at least one API key: set COPILOT_INTELLIGENCE_API_KEYS=cpk-<projectId>_<secret>/);
    expect(startupError(() => resolveIntelligence(undefined, { apiKeys: [] }, {}, "/api/copilotkit")).message).toMatch(/^the config's intelligence section needs at least one API key/);
    const bad = startupError(() => resolveIntelligence("beside", undefined, { COPILOT_INTELLIGENCE_API_KEYS: `${KEY},cpk-0_zero-project-secret` }, "/api/copilotkit"));
    expect(bad.message).toMatch(/key 2 \(\*\*\*\) must look like cpk-<projectId>_<secret>/);
    expect(bad.message).not.toContain("zero-project-secret");
    expect(bad.exitCode).toBe(2);
  });

  it("refuses a runtime base path that overlaps the platform's paths, unless the runtime is off", () => {
    for (const basePath of ["/", "", "/api", "/api/", "/api/threads", "/api/threads/x", "/runner", "/client/v1"]) {
      expect(startupError(() => checkBasePath(basePath)).message, basePath).toMatch(/overlaps the Intelligence platform's/);
    }
    for (const basePath of ["/api/copilotkit", "/copilotkit", "/api/threadsx", "/clients"]) expect(() => checkBasePath(basePath), basePath).not.toThrow();
    expect(startupError(() => resolveIntelligence("beside", undefined, env, "/api")).message).toMatch(/--base-path/);
    expect(resolveIntelligence("only", undefined, env, "/api")?.mode).toBe("only");
  });

  it("routes only the platform's own paths to it", () => {
    for (const path of ["/api/threads", "/api/threads/t1/lock", "/api/entitlements/runtime", "/api/inspector/metadata", "/api/_inspect/threads/t/events", "/runner/longpoll", "/client/websocket"]) {
      expect(isPlatformPath(path), path).toBe(true);
    }
    for (const path of ["/api/copilotkit", "/api/copilotkit/info", "/api/threadsx", "/healthz", "/", "/runners"]) expect(isPlatformPath(path), path).toBe(false);
  });

  it("runs one worker: an explicit count above one is a start-up error that says why", () => {
    expect(intelligenceWorkers(undefined).count).toBe(1);
    expect(intelligenceWorkers(1).count).toBe(1);
    expect(startupError(() => intelligenceWorkers(4)).message).toMatch(/long-poll sessions .* live in one process/);
  });

  it("prints the apiUrl and wsUrl with the key's secret redacted", () => {
    expect(redactApiKey(KEY)).toBe("cpk-7_***");
    expect(redactApiKey("not-a-key")).toBe("***");
    const lines = intelligenceUrlLines("http://localhost:3001", resolveIntelligence("beside", undefined, env, "/api/copilotkit")!).join("\n");
    expect(lines).toContain('new CopilotKitIntelligence({ apiUrl: "http://localhost:3001", wsUrl: "ws://localhost:3001", apiKey: "cpk-7_***" })');
    expect(lines).not.toContain("s3cret");
  });
});

describe("serve --intelligence: the config file's intelligence section", () => {
  it("accepts the documented keys and a store", async () => {
    const store = new MemoryIntelligenceStore();
    const config = await checkConfig(
      { intelligence: { mode: "only", apiKeys: [KEY], tokenSecret: "x", clientOrigins: ["https://a.example"], store, lockTtlSeconds: { default: 30 }, tokenTtlMs: { thread: 60_000 } } },
      "inline",
    );
    expect(config.intelligence?.store).toBe(store);
  });

  it("stops the start on an unknown key or a wrong type, naming it", async () => {
    const failure = (intelligence: unknown) => checkConfig({ intelligence }, "inline").then(() => "accepted", (error: Error) => error.message);
    expect(await failure({ apiKey: KEY })).toMatch(/unknown option `intelligence\.apiKey`/);
    expect(await failure({ mode: "alone" })).toMatch(/intelligence\.mode must be one of beside, only, off/);
    expect(await failure({ apiKeys: KEY })).toMatch(/intelligence\.apiKeys must be an array of strings/);
    expect(await failure({ tokenSecret: "" })).toMatch(/intelligence\.tokenSecret must be a non-empty string/);
    expect(await failure({ store: {} })).toMatch(/intelligence\.store must be an IntelligenceStore/);
    expect(await failure({ lockTtlSeconds: { default: -1 } })).toMatch(/intelligence\.lockTtlSeconds\.default must be a positive number/);
    expect(await failure({ tokenTtlMs: { user: 5 } })).toMatch(/unknown option `intelligence\.tokenTtlMs\.user`/);
    expect(await failure(true)).toMatch(/`intelligence` must be an object/);
  });
});

describe("serve --intelligence: the runtime on its own platform in process (intelligence.runtime: true)", () => {
  const identifyUser = () => ({ id: "u", name: "U" });

  it("is accepted with runtime.identifyUser and becomes the settings' inProcessRuntime", async () => {
    const config = await checkConfig({ intelligence: { runtime: true, publicWsUrl: "wss://app.example.com" }, runtime: { identifyUser } }, "inline");
    const settings = resolveIntelligence(undefined, config.intelligence, env, "/api/copilotkit");
    expect(settings?.inProcessRuntime).toEqual({ publicWsUrl: "wss://app.example.com" });
    expect(resolveIntelligence("beside", { runtime: false }, env, "/api/copilotkit")?.inProcessRuntime).toBeUndefined();
  });

  it("refuses what contradicts it: no identifyUser, another platform, a runner, no runtime served, wrong types", async () => {
    const failure = (config: Record<string, unknown>) => checkConfig(config, "inline").then(() => "accepted", (error: Error) => error.message);
    expect(await failure({ intelligence: { runtime: true } })).toMatch(/needs runtime\.identifyUser/);
    expect(await failure({ intelligence: { runtime: true }, runtime: { identifyUser, intelligence: {} } })).toMatch(/both choose the runtime's platform/);
    expect(await failure({ intelligence: { runtime: true }, runtime: { identifyUser, runner: { run() {}, connect() {}, stop() {}, isRunning() {} } } })).toMatch(/runtime\.runner cannot be given with intelligence\.runtime/);
    expect(await failure({ intelligence: { runtime: true, mode: "only" }, runtime: { identifyUser } })).toMatch(/intelligence\.mode is "only"/);
    expect(await failure({ intelligence: { runtime: "yes" } })).toMatch(/intelligence\.runtime must be true or false/);
    expect(await failure({ intelligence: { publicWsUrl: "https://app.example.com" } })).toMatch(/intelligence\.publicWsUrl must be a ws:\/\/ or wss:\/\/ URL/);
    expect(startupError(() => resolveIntelligence("only", { runtime: true }, env, "/api/copilotkit")).message).toMatch(/--intelligence-only serves no runtime/);
  });

  it("tells browsers publicWsUrl, else this server's address; port 0 without publicWsUrl is a start-up error", () => {
    expect(inProcessPublicWsUrl({ publicWsUrl: "wss://app.example.com/" }, "0.0.0.0", 0)).toBe("wss://app.example.com");
    expect(inProcessPublicWsUrl({}, "0.0.0.0", 3001)).toBe("ws://localhost:3001");
    expect(inProcessPublicWsUrl({}, "127.0.0.1", 4000)).toBe("ws://127.0.0.1:4000");
    expect(startupError(() => inProcessPublicWsUrl({}, "127.0.0.1", 0)).message).toMatch(/Set intelligence\.publicWsUrl/);
  });
});
