import type { BaseEvent } from "@ag-ui/client";
import { describe, expect, it } from "vitest";
import { expectValidStream, nullFields, replayThroughClients } from "./helpers/verify.js";

// The checks the agent tests rely on must be able to fail: each bad stream below is rejected.
const run = (...middle: object[]) =>
  [{ type: "RUN_STARTED", threadId: "t", runId: "r" }, ...middle, { type: "RUN_FINISHED", threadId: "t", runId: "r" }] as BaseEvent[];

describe("the stream verification helper", () => {
  it("accepts a well-formed stream", async () => {
    await expectValidStream(
      run(
        { type: "TEXT_MESSAGE_START", messageId: "m", role: "assistant" },
        { type: "TEXT_MESSAGE_CONTENT", messageId: "m", delta: "hi" },
        { type: "TEXT_MESSAGE_END", messageId: "m" },
      ),
    );
  });

  it("sees the 1.0 client fail on reasoning left open at RUN_FINISHED (CopilotKit #3323)", async () => {
    const [v1] = await replayThroughClients(
      run(
        { type: "REASONING_START", messageId: "r1" },
        { type: "REASONING_MESSAGE_START", messageId: "r1", role: "reasoning" },
        { type: "REASONING_MESSAGE_CONTENT", messageId: "r1", delta: "hmm" },
      ),
    );
    expect(v1.failures.length).toBeGreaterThan(0);
  });

  it("sees both clients fail on a null optional field", async () => {
    const replays = await replayThroughClients(
      run({ type: "TEXT_MESSAGE_START", messageId: "m", role: "assistant", name: null }, { type: "TEXT_MESSAGE_END", messageId: "m" }),
    );
    for (const replay of replays) expect(replay.failures.length).toBeGreaterThan(0);
  });

  it("finds null fields outside application state", () => {
    expect(nullFields([{ type: "RUN_ERROR", message: "x", code: null } as unknown as BaseEvent])).toEqual(["[0]RUN_ERROR.code"]);
    expect(nullFields([{ type: "STATE_SNAPSHOT", snapshot: { a: null } } as unknown as BaseEvent])).toEqual([]);
  });

  it("rejects a stream without a terminal event", async () => {
    await expect(expectValidStream([{ type: "RUN_STARTED", threadId: "t", runId: "r" } as BaseEvent])).rejects.toThrow();
  });
});
