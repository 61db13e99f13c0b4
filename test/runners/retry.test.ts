import { describe, expect, it } from "vitest";
import { retryTransient } from "../../src/runners/durable/retry.js";
import { setLogger } from "../../src/logger.js";

setLogger({ info: () => {}, warn: () => {}, error: () => {} });

const TRANSIENT = new Error("transient");
const PERMANENT = new Error("permanent");
const isTransient = (error: unknown) => error === TRANSIENT;
const policy = { attempts: 4, baseDelayMs: 1, maxDelayMs: 4 };

function failing(times: number, error: Error) {
  const calls = { count: 0 };
  const operation = async () => {
    calls.count++;
    if (calls.count <= times) throw error;
    return "done";
  };
  return { calls, operation };
}

describe("retryTransient", () => {
  it("retries transient failures until the operation succeeds", async () => {
    const { calls, operation } = failing(2, TRANSIENT);
    await expect(retryTransient(operation, { isTransient, deadline: Date.now() + 60_000, what: "test", policy })).resolves.toBe("done");
    expect(calls.count).toBe(3);
  });

  it("does not retry a permanent failure", async () => {
    const { calls, operation } = failing(1, PERMANENT);
    await expect(retryTransient(operation, { isTransient, deadline: Date.now() + 60_000, what: "test", policy })).rejects.toBe(PERMANENT);
    expect(calls.count).toBe(1);
  });

  it("gives up after the policy's attempts", async () => {
    const { calls, operation } = failing(10, TRANSIENT);
    await expect(retryTransient(operation, { isTransient, deadline: Date.now() + 60_000, what: "test", policy })).rejects.toBe(TRANSIENT);
    expect(calls.count).toBe(4);
  });

  it("starts no retry that would end after the deadline (the run's lease)", async () => {
    const { calls, operation } = failing(10, TRANSIENT);
    await expect(retryTransient(operation, { isTransient, deadline: Date.now(), what: "test", policy })).rejects.toBe(TRANSIENT);
    expect(calls.count).toBe(1);
    let now = 0;
    const late = failing(10, TRANSIENT);
    const clock = () => now;
    const slow = async () => {
      now += 1_000; // each try takes a second of the lease
      return late.operation();
    };
    await expect(retryTransient(slow, { isTransient, deadline: 1_500, what: "test", policy, clock })).rejects.toBe(TRANSIENT);
    expect(late.calls.count).toBe(2);
  });
});
