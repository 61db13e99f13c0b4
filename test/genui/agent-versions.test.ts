/**
 * The generative UI middlewares on agents built with every `@ag-ui/client` version in the field:
 * the middleware classes come from whatever client the middleware packages resolve, the agent
 * from the user's, and `runAgent()` of each version must run them. The stream must carry the
 * A2UI surface and the sandboxed UI and end with `RUN_FINISHED`, the same events as on 1.0.
 */
import { describe, expect, it } from "vitest";
import { Observable } from "rxjs";
import { AbstractAgent as Agent048 } from "ag-ui-client-0-0-48";
import { AbstractAgent as Agent058 } from "ag-ui-client-0-0-58";
import { AbstractAgent as Agent100 } from "@ag-ui/client";
import { setLogger } from "../../src/logger.js";
import { a2uiSurfaceReply, sandboxedUiReply } from "../helpers/genui.js";
import { makeHandler } from "../helpers/handler.js";
import { readSse } from "../helpers/sse.js";
import { runInput } from "../helpers/inputs.js";

setLogger({ info: () => {}, warn: () => {}, error: () => {} });

function script(input: any): any[] {
  const a2ui = a2uiSurfaceReply()(input);
  return [...a2ui.slice(0, -1), ...sandboxedUiReply()(input).slice(1, -1), a2ui.at(-1)];
}

const emit = (input: any) =>
  new Observable<any>((s) => {
    for (const e of script(input)) s.next(e);
    s.complete();
  });

class Old048 extends Agent048 {
  run(input: any) {
    return emit(input);
  }
}
class Mid058 extends Agent058 {
  run(input: any) {
    return emit(input);
  }
}
class New100 extends Agent100 {
  run(input: any) {
    return emit(input);
  }
}

/** The events without what differs by version on its own (timestamps, RUN_STARTED's input, minted ids). */
const shape = (events: Array<Record<string, any>>) =>
  events.map(({ timestamp: _t, input: _i, ...e }) => (e.type === "TOOL_CALL_RESULT" ? { ...e, messageId: "minted" } : e));

describe("generative UI on agents of every @ag-ui/client version", () => {
  it.each([
    ["0.0.48", () => new Old048()],
    ["0.0.58", () => new Mid058()],
  ])("an agent built with %s streams the same events as one built with 1.0.0", async (_version, make) => {
    const run = async (agent: any) => {
      const { post } = makeHandler({ agents: { default: agent }, a2ui: {}, openGenerativeUI: true });
      return readSse(await post("/agent/default/run", runInput({ threadId: "t-ver", runId: "r-ver" })));
    };
    const [events, reference] = await Promise.all([run(make()), run(new New100())]);
    expect(reference.some((e) => e.activityType === "a2ui-surface")).toBe(true);
    expect(reference.some((e) => e.activityType === "open-generative-ui")).toBe(true);
    expect(shape(events)).toEqual(shape(reference));
  });
});
