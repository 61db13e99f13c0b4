/**
 * The generative UI options are checked when the runtime is built (a wrong shape is a TypeError
 * naming the field, never a silently ignored option), and an agent that cannot take middleware
 * still runs, with a warning saying which UI it will not get.
 */
import { describe, expect, it } from "vitest";
import { Observable } from "rxjs";
import { CopilotRuntime } from "../../src/runtime.js";
import { makeHandler } from "../helpers/handler.js";
import { readSse, types } from "../helpers/sse.js";
import { runInput } from "../helpers/inputs.js";

const agents = { default: { clone() { return this; }, run: () => new Observable() } } as never;

describe("CopilotRuntime's generative UI options", () => {
  it.each<[string, Record<string, unknown>, RegExp]>([
    ["a2ui as a string", { a2ui: "yes" }, /`a2ui` must be an object/],
    ["a2ui.agents not a list", { a2ui: { agents: "default" } }, /`a2ui\.agents` must be an array of agent ids/],
    ["a2ui.enabled not a boolean", { a2ui: { enabled: "no" } }, /`a2ui\.enabled` must be a boolean/],
    ["openGenerativeUI as a number", { openGenerativeUI: 1 }, /`openGenerativeUI` must be `true` or an object/],
    ["openGenerativeUI.agents not a list", { openGenerativeUI: { agents: [1] } }, /`openGenerativeUI\.agents` must be an array/],
    ["mcpApps without servers", { mcpApps: {} }, /`mcpApps` must be `\{ servers: \[\.\.\.\] \}`/],
    ["an MCP server without a type", { mcpApps: { servers: [{ url: "http://x/mcp" }] } }, /`mcpApps\.servers\[0\]\.type` must be "http" or "sse"/],
    ["an MCP server without a url", { mcpApps: { servers: [{ type: "http" }] } }, /`mcpApps\.servers\[0\]\.url` must be a URL/],
    [
      "an MCP server with a tool policy",
      { mcpApps: { servers: [{ type: "http", url: "http://x/mcp" }, { type: "sse", url: "http://y/sse", includeTools: ["a"] }] } },
      /`mcpApps\.servers\[1\]\.includeTools` is not supported/,
    ],
  ])("rejects %s", (_name, options, message) => {
    expect(() => new CopilotRuntime({ agents, ...options } as never)).toThrow(TypeError);
    expect(() => new CopilotRuntime({ agents, ...options } as never)).toThrow(message);
  });

  it("reads falsy a2ui as off and `true` as `{}`, as CopilotKit does", () => {
    expect(new CopilotRuntime({ agents, a2ui: false } as never).a2ui).toBeUndefined();
    expect(new CopilotRuntime({ agents, a2ui: null } as never).a2ui).toBeUndefined();
    expect(new CopilotRuntime({ agents, a2ui: true } as never).a2ui).toEqual({});
  });

  it("runs an agent without use() as it is and warns that it gets no A2UI", async () => {
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, warn: (_f: unknown, msg: string) => warnings.push(msg), error() {} } as never;
    const plain = {
      description: "no use()",
      clone() {
        return { ...plain };
      },
      run: (input: { threadId: string; runId: string }) =>
        new Observable((s) => {
          s.next({ type: "RUN_STARTED", threadId: input.threadId, runId: input.runId });
          s.next({ type: "RUN_FINISHED", threadId: input.threadId, runId: input.runId });
          s.complete();
        }),
    };
    const { post } = makeHandler({ agents: { default: plain as never }, a2ui: {}, logger });
    const events = await readSse(await post("/agent/default/run", runInput()));
    expect(types(events)).toEqual(["RUN_STARTED", "RUN_FINISHED"]);
    expect(warnings.some((w) => w.includes("has no use() method") && w.includes("A2UIMiddleware"))).toBe(true);
  });
});
