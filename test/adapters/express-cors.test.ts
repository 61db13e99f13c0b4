/**
 * The Express endpoint's `cors` takes what CopilotKit's takes (the `cors` package's options) and
 * answers as 1.75's does for the same object, over HTTP: which origins the browser lets in,
 * with credentials or not, and the preflight's allowed methods. Nested options are checked
 * like the others: an unknown one warns, a wrong type throws.
 */
process.env.COPILOTKIT_TELEMETRY_DISABLED = "true";

import express from "express";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import * as reference from "@copilotkit/runtime/v2";
import { createCopilotExpressHandler as referenceExpress } from "@copilotkit/runtime/v2/express";
import { CopilotRuntime } from "../../src/index.js";
import { createCopilotExpressHandler } from "../../src/adapters/express.js";
import { toHandlerCors } from "../../src/adapters/express-cors.js";
import { ScriptedAgent, textReply } from "../helpers/agents.js";

const BASE = "/api/copilotkit";
const servers: Server[] = [];
afterAll(() => Promise.all(servers.map((server) => new Promise((done) => server.close(done)))));

const agents = () => ({ default: new ScriptedAgent({ script: textReply("hi") }) });

async function listen(middleware: unknown): Promise<string> {
  const app = express();
  app.use(middleware as express.RequestHandler);
  const server = app.listen(0, "127.0.0.1");
  servers.push(server);
  await new Promise((resolve) => server.once("listening", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function verdicts(cors: unknown, origin: string) {
  const theirs = await listen(referenceExpress({ runtime: new reference.CopilotRuntime({ agents: agents() as never }), basePath: BASE, cors: cors as never, activateChannels: false }));
  const ours = await listen(createCopilotExpressHandler({ runtime: new CopilotRuntime({ agents: agents() }), basePath: BASE, cors: cors as never }));
  const verdict = async (base: string) => {
    const get = await fetch(`${base}${BASE}/info`, { headers: { origin } });
    const preflight = await fetch(`${base}${BASE}/agent/default/run`, {
      method: "OPTIONS",
      headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
    });
    const allowOrigin = get.headers.get("access-control-allow-origin");
    const allows = allowOrigin === "*" || allowOrigin === origin;
    const methods = preflight.headers.get("access-control-allow-methods");
    return {
      status: get.status,
      browserAllows: allows,
      credentials: allows ? get.headers.get("access-control-allow-credentials") : null,
      preflightAllows: preflight.status < 300 && [origin, "*"].includes(preflight.headers.get("access-control-allow-origin") ?? ""),
      // OPTIONS in the list changes nothing for a browser (our default lists it, the cors package's does not).
      methods: allows && methods ? methods.split(",").map((m) => m.trim()).filter((m) => m !== "OPTIONS").sort() : null,
    };
  };
  return { theirs: await verdict(theirs), ours: await verdict(ours) };
}

describe("the Express endpoint's cors, as 1.75's", () => {
  it.each([
    ["default (unset)", undefined, "https://app.example"],
    ["a RegExp origin that matches, with credentials and methods", { origin: /\.example$/, credentials: true, methods: ["GET", "POST"] }, "https://app.example"],
    ["a RegExp origin that does not match", { origin: /\.example$/, credentials: true }, "https://app.test"],
    ["origin true (reflect) with credentials", { origin: true, credentials: true }, "https://any.test"],
    ["a list of origins, methods as a string", { origin: ["https://a.example", "https://app.example"], methods: "GET,POST,OPTIONS" }, "https://app.example"],
  ])("%s", async (_, cors, origin) => {
    const { theirs, ours } = await verdicts(cors, origin);
    expect(ours).toEqual(theirs);
  });
});

describe("toHandlerCors", () => {
  it("translates the cors package's names and keeps ours", () => {
    expect(toHandlerCors({ origin: "https://a.example", methods: "GET, POST", allowedHeaders: ["x-a"], exposedHeaders: "x-b,x-c", maxAge: 60 })).toEqual({
      origin: "https://a.example",
      allowMethods: ["GET", "POST"],
      allowHeaders: ["x-a"],
      exposeHeaders: ["x-b", "x-c"],
      maxAge: 60,
    });
    expect(toHandlerCors({ origin: ["https://a.example"], allowMethods: ["GET"] })).toEqual({ origin: ["https://a.example"], allowMethods: ["GET"] });
    expect(toHandlerCors(undefined)).toBe(true);
    expect(toHandlerCors(false)).toBe(false);
    expect(toHandlerCors({ origin: false })).toBe(false);
  });

  it("refuses the callback form of an origin function, which cannot answer in time", () => {
    expect(() => toHandlerCors({ origin: ((_origin: string, callback: (e: null, ok: boolean) => void) => callback(null, true)) as never })).toThrow(TypeError);
  });

  it("nested cors options are checked: an unknown one warns with the close name, a wrong type throws", () => {
    const warnings: string[] = [];
    const log = { error() {}, info() {}, debug() {}, warn: (_: unknown, msg: string) => warnings.push(msg) };
    const runtime = new CopilotRuntime({ agents: agents(), logger: log });
    createCopilotExpressHandler({ runtime, basePath: BASE, cors: { origins: ["https://a.example"], preflightContinue: true } as never });
    expect(warnings).toEqual([
      'createCopilotExpressHandler(): unknown option "cors.origins" is ignored (did you mean "cors.origin"?).',
      'createCopilotExpressHandler(): option "cors.preflightContinue" is not supported and is ignored: preflights are always answered by the endpoint.',
    ]);
    expect(() => createCopilotExpressHandler({ runtime, basePath: BASE, cors: { credentials: "yes" } as never })).toThrow(/option "cors.credentials" must be a boolean/);
  });
});
