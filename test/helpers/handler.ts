/**
 * Our runtime behind its web-standard fetch handler, called in process (no socket): the
 * quickest way to test a route.
 *
 * @example
 * ```ts
 * const { post } = makeHandler({ agents: { default: new ScriptedAgent({ script: helloScript }) } });
 * const events = await readSse(await post("/agent/default/run", runInput()));
 * ```
 */
import { CopilotRuntime, type CopilotRuntimeOptions } from "../../src/runtime.js";
import { createCopilotRuntimeHandler, type CopilotRuntimeHandlerOptions } from "../../src/http/handler.js";
import { ScriptedAgent, helloScript } from "./agents.js";

/** A runtime (default agent: `helloScript`, emitted synchronously) under `/api/copilotkit`. */
export function makeHandler(runtimeOptions: Partial<CopilotRuntimeOptions> = {}, handlerOptions: Partial<CopilotRuntimeHandlerOptions> = {}) {
  const runtime = new CopilotRuntime({ agents: { default: new ScriptedAgent({ script: helloScript, delayMs: 0 }) }, ...runtimeOptions });
  const handler = createCopilotRuntimeHandler({ runtime, basePath: "/api/copilotkit", ...handlerOptions });
  const url = (path: string) => `http://localhost/api/copilotkit${path}`;
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    handler(
      new Request(url(path), {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: typeof body === "string" ? body : JSON.stringify(body),
      }),
    );
  const get = (path: string, headers: Record<string, string> = {}) => handler(new Request(url(path), { headers }));
  return { runtime, handler, url, post, get };
}
