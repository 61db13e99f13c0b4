import { describe, expect, it } from "vitest";
import { Observable, map } from "rxjs";
import { AbstractAgent as Agent048 } from "ag-ui-client-0-0-48";
import { AbstractAgent as Agent058 } from "ag-ui-client-0-0-58";
import { AbstractAgent as Agent100 } from "@ag-ui/client";
import { setLogger } from "../../src/logger.js";
import { makeHandler } from "../helpers/handler.js";
import { readSse, types } from "../helpers/sse.js";
import { runInput } from "../helpers/inputs.js";

setLogger({ info: () => {}, warn: () => {}, error: () => {} });

function reply(input: { threadId: string; runId: string }): any[] {
  return [
    { type: "RUN_STARTED", threadId: input.threadId, runId: input.runId },
    { type: "TEXT_MESSAGE_START", messageId: `m-${input.runId}`, role: "assistant" },
    { type: "TEXT_MESSAGE_CONTENT", messageId: `m-${input.runId}`, delta: "hello" },
    { type: "TEXT_MESSAGE_END", messageId: `m-${input.runId}` },
    { type: "RUN_FINISHED", threadId: input.threadId, runId: input.runId },
  ];
}

// Agents written against each client version in the field. Their `clone()` is the library's own
// (0.0.4x builds the clone without running the subclass constructor), so they keep no state of their own.
class Old048 extends Agent048 {
  run(input: any) {
    return new Observable<any>((s) => {
      for (const e of reply(input)) s.next(e);
      s.complete();
    });
  }
}
class Mid058 extends Agent058 {
  run(input: any) {
    return new Observable<any>((s) => {
      for (const e of reply(input)) s.next(e);
      s.complete();
    });
  }
}
class New100 extends Agent100 {
  run(input: any) {
    return new Observable<any>((s) => {
      for (const e of reply(input)) s.next(e);
      s.complete();
    });
  }
}

describe("agents built with every @ag-ui/client version in the field", () => {
  it.each([
    ["0.0.48", () => new Old048({ description: "old" })],
    ["0.0.58", () => new Mid058({ description: "mid" })],
    ["1.0.0", () => new New100({ description: "new" })],
  ])("runs an agent built with %s and replays it on connect", async (_version, make) => {
    const { post, get } = makeHandler({ agents: { default: make() as any } });
    const info = await (await get("/info")).json();
    expect(info.agents.default.description).toBeTruthy();
    const events = await readSse(await post("/agent/default/run", runInput({ threadId: "t-v", runId: "r-v" })));
    expect(types(events)).toEqual(["RUN_STARTED", "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END", "RUN_FINISHED"]);
    const replay = await readSse(await post("/agent/default/connect", runInput({ threadId: "t-v", messages: [] })));
    expect(replay.map((e) => e.type)).toEqual(types(events));
  });

  it("applies middleware added with use(), which only runAgent() runs", async () => {
    const agent = new New100();
    agent.use((input: any, next: any) =>
      next.run(input).pipe(map((event: any) => (event.type === "TEXT_MESSAGE_CONTENT" ? { ...event, delta: event.delta.toUpperCase() } : event))),
    );
    const { post } = makeHandler({ agents: { default: agent } });
    const events = await readSse(await post("/agent/default/run", runInput({ threadId: "t-mw" })));
    expect(events.find((e) => e.type === "TEXT_MESSAGE_CONTENT")?.delta).toBe("HELLO");
    expect(events.at(-1)?.type).toBe("RUN_FINISHED");
  });
});

describe("agents whose class overrides runAgent(), on every @ag-ui/client version", () => {
  // The override changes what run() says: the stream proves which path the runtime took.
  function overriding(Base: any): new () => any {
    return class extends Base {
      via = "via run";
      runAgent(...args: any[]) {
        this.via = "via runAgent";
        return super.runAgent(...args);
      }
      run(input: any) {
        return new Observable<any>((s) => {
          for (const e of reply(input)) s.next(e.type === "TEXT_MESSAGE_CONTENT" ? { ...e, delta: this.via } : e);
          s.complete();
        });
      }
    };
  }
  it.each([
    ["0.0.48", () => new (overriding(Agent048))()],
    ["0.0.58", () => new (overriding(Agent058))()],
    ["1.0.0", () => new (overriding(Agent100))()],
  ])("%s: the override runs, and the stream is the agent's", async (_version, make) => {
    const { post } = makeHandler({ agents: { default: make() as any } });
    const events = await readSse(await post("/agent/default/run", runInput({ threadId: "t-o", runId: "r-o" })));
    expect(types(events)).toEqual(["RUN_STARTED", "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END", "RUN_FINISHED"]);
    expect(events.find((e) => e.type === "TEXT_MESSAGE_CONTENT")?.delta).toBe("via runAgent");
  });
});
