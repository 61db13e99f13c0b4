import { describe, expect, it } from "vitest";
import { lastValueFrom, toArray } from "rxjs";
import { InMemoryAgentRunner } from "../../src/runners/in-memory.js";
import { setLogger } from "../../src/logger.js";
import type { RunInput } from "../../src/events/types.js";
import { runInput } from "../helpers/inputs.js";
import { ScriptedAgent, longScript, helloScript } from "../helpers/agents.js";

setLogger({ info: () => {}, warn: () => {}, error: () => {} });

async function runToEnd(runner: InMemoryAgentRunner, threadId: string, agent = new ScriptedAgent({ script: helloScript, delayMs: 0 })) {
  const input = runInput({ threadId }) as unknown as RunInput;
  return lastValueFrom(runner.run({ threadId, agent, input, agentId: "default" }).pipe(toArray()));
}

const threadIds = async (runner: InMemoryAgentRunner) => (await runner.listThreads({ limit: 200 })).threads.map((t) => t.id);

describe("InMemoryAgentRunner bounds", () => {
  it("evicts the least recently used thread past maxThreads", async () => {
    const runner = new InMemoryAgentRunner({ maxThreads: 3 });
    for (const id of ["a", "b", "c"]) await runToEnd(runner, id);
    await runToEnd(runner, "a"); // a is now the most recent
    await runToEnd(runner, "d");
    expect((await threadIds(runner)).sort()).toEqual(["a", "c", "d"]);
  });

  it("never evicts a thread with an active run", async () => {
    const runner = new InMemoryAgentRunner({ maxThreads: 1 });
    const slow = new ScriptedAgent({ script: longScript(20), delayMs: 5 });
    const running = runToEnd(runner, "busy", slow);
    await runToEnd(runner, "x");
    await runToEnd(runner, "y");
    expect(await runner.isRunning({ threadId: "busy" })).toBe(true);
    const events = await running;
    expect(events.at(-1)).toMatchObject({ type: "RUN_FINISHED" });
    expect(await runner.getThread({ threadId: "busy" })).toBeDefined();
  });

  it("keeps at most maxRunsPerThread runs, dropping the oldest", async () => {
    const runner = new InMemoryAgentRunner({ maxRunsPerThread: 2 });
    for (let i = 0; i < 4; i++) await runToEnd(runner, "t");
    const events = (await runner.getThreadEvents({ threadId: "t" }))!;
    expect(events.filter((e) => e.type === "RUN_STARTED")).toHaveLength(2);
  });

  it("evicts by stored bytes", async () => {
    const runner = new InMemoryAgentRunner({ maxBytes: 2_000 });
    for (let i = 0; i < 10; i++) await runToEnd(runner, `t${i}`);
    const kept = await threadIds(runner);
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(10);
    expect(kept).toContain("t9");
  });

  it("lets threads of one owner stay invisible to another", async () => {
    const runner = new InMemoryAgentRunner();
    const input = runInput({ threadId: "private" }) as unknown as RunInput;
    await lastValueFrom(runner.run({ threadId: "private", agent: new ScriptedAgent({ script: helloScript, delayMs: 0 }), input, agentId: "default", ownerId: "alice" }).pipe(toArray()));
    expect(await runner.getThread({ threadId: "private", ownerId: "bob" })).toBeUndefined();
    expect((await runner.listThreads({ ownerId: "bob" })).threads).toEqual([]);
    expect(await runner.stop({ threadId: "private", ownerId: "bob" })).toBe(false);
    const replay = await lastValueFrom(runner.connect({ threadId: "private", ownerId: "bob" }).pipe(toArray()), { defaultValue: [] });
    expect(replay).toEqual([]);
    expect((await runner.listThreads({ ownerId: "alice" })).threads.map((t) => t.id)).toEqual(["private"]);
  });
});
