/**
 * Our createRunEventFinalizer / finalizeRunEvents against @copilotkit/runtime 1.75's, on the same
 * event arrays: hand-picked cases, then seeded random sequences of lifecycle events.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { createRunEventFinalizer, finalizeRunEvents } from "../../src/index.js";

// CopilotKit's runtime reports telemetry unless told not to.
process.env.COPILOTKIT_TELEMETRY_DISABLED = "true";
process.env.DO_NOT_TRACK = "1";

type Ev = { type: string; [key: string]: unknown };
let theirs: { finalizeRunEvents: (events: Ev[], options?: object) => Ev[]; createRunEventFinalizer: () => { observe(e: Ev): void; finalize(o?: object): Ev[] } };

beforeAll(async () => {
  theirs = (await import("@copilotkit/runtime/v2")) as any;
}, 60_000);

const cases: Array<[string, Ev[]]> = [
  ["an empty run", []],
  ["an open text message", [{ type: "RUN_STARTED" }, { type: "TEXT_MESSAGE_START", messageId: "m" }, { type: "TEXT_MESSAGE_CONTENT", messageId: "m", delta: "x" }]],
  ["a tool call neither ended nor answered", [{ type: "TOOL_CALL_START", toolCallId: "c", toolCallName: "f" }]],
  ["a tool call ended but not answered", [{ type: "TOOL_CALL_START", toolCallId: "c" }, { type: "TOOL_CALL_END", toolCallId: "c" }]],
  ["a tool call answered but not ended", [{ type: "TOOL_CALL_START", toolCallId: "c" }, { type: "TOOL_CALL_RESULT", toolCallId: "c", content: "x" }]],
  ["a finished run", [{ type: "TEXT_MESSAGE_START", messageId: "m" }, { type: "RUN_FINISHED" }]],
  ["a failed run", [{ type: "TOOL_CALL_START", toolCallId: "c" }, { type: "RUN_ERROR", message: "x" }]],
  ["events after a terminal one", [{ type: "RUN_FINISHED" }, { type: "TEXT_MESSAGE_START", messageId: "m" }]],
  ["ids that are empty or missing", [{ type: "TEXT_MESSAGE_START", messageId: "" }, { type: "TEXT_MESSAGE_START" }, { type: "TOOL_CALL_START", toolCallId: "" }, { type: "TOOL_CALL_END" }]],
  ["a tool call started twice and several messages", [
    { type: "TEXT_MESSAGE_START", messageId: "b" },
    { type: "TOOL_CALL_START", toolCallId: "c" },
    { type: "TEXT_MESSAGE_START", messageId: "a" },
    { type: "TOOL_CALL_START", toolCallId: "c" },
    { type: "TOOL_CALL_START", toolCallId: "d" },
    { type: "TEXT_MESSAGE_END", messageId: "b" },
  ]],
];
const options: Array<object | undefined> = [
  undefined,
  {},
  { stopRequested: true },
  { stopRequested: true, interruptionMessage: "boom" },
  { interruptionMessage: "boom" },
  { interruptionMessage: "Run stopped by user" },
  { stopRequested: true, interruptionMessage: "" },
  { interruptionMessage: "" },
];

function same(events: Ev[], option: object | undefined): void {
  const ours = structuredClone(events);
  const reference = structuredClone(events);
  const appendedOurs = option === undefined ? finalizeRunEvents(ours) : finalizeRunEvents(ours, option);
  const appendedTheirs = option === undefined ? theirs.finalizeRunEvents(reference) : theirs.finalizeRunEvents(reference, option);
  expect(appendedOurs).toEqual(appendedTheirs);
  expect(ours).toEqual(reference); // appended in place, the same way
  // The incremental form, finalized twice.
  const a = createRunEventFinalizer();
  const b = theirs.createRunEventFinalizer();
  for (const event of events) {
    a.observe(event);
    b.observe(event);
  }
  expect(a.finalize(option)).toEqual(b.finalize(option));
  expect(a.finalize(option)).toEqual(b.finalize(option));
}

describe("createRunEventFinalizer / finalizeRunEvents match @copilotkit/runtime 1.75", () => {
  it.each(cases)("%s", (_name, events) => {
    for (const option of options) same(events, option);
  });

  it("on 2,000 random event sequences", () => {
    let seed = 42;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const ids = ["a", "b", "c"];
    const kinds = ["TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END", "TOOL_CALL_START", "TOOL_CALL_ARGS", "TOOL_CALL_END", "TOOL_CALL_RESULT", "STEP_STARTED", "CUSTOM", "RUN_FINISHED", "RUN_ERROR"];
    for (let i = 0; i < 2000; i++) {
      const events: Ev[] = [{ type: "RUN_STARTED", threadId: "t", runId: "r" }];
      const length = random(12);
      for (let j = 0; j < length; j++) {
        const type = kinds[random(kinds.length - (random(8) === 0 ? 0 : 2))];
        const id = ids[random(ids.length)];
        events.push(type.startsWith("TOOL_CALL") ? { type, toolCallId: id } : { type, messageId: id });
      }
      same(events, options[random(options.length)]);
    }
  });
});
