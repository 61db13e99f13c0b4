import { randomUUID } from "node:crypto";
import { EventType, type BaseEvent, type Interrupt, type Message, type ResumeEntry, type RunAgentInput } from "@ag-ui/core";
import type { Logger } from "../../logger.js";
import { convertAISDKStream } from "./convert-ai-sdk-stream.js";
import { classifyRunError } from "./errors.js";
import type { RunFinishedDetails } from "./event-mapper.js";
import { InterruptSignal, parseResume } from "./interrupts.js";
import { logRunFailure, type RunIdentity } from "./run-log.js";
import { configuredSecrets } from "./secrets.js";
import { convertTanStackStream } from "./tanstack.js";
import type { BuiltInAgentFactoryConfig, BuiltInAgentFactoryContext } from "./types.js";

/** Everything one factory-mode run needs. */
export interface FactoryRunContext {
  input: RunAgentInput;
  config: BuiltInAgentFactoryConfig;
  /** The run's controller: aborted by `abortRun()` or when the subscriber goes away. */
  controller: AbortController;
  emit: (events: BaseEvent[]) => void;
  agentId?: string;
  forwardedHeaders?: Record<string, string>;
  log?: Logger;
}

const NO_LEARNED_SKILLS = Object.freeze({ catalog: "", tools: Object.freeze({}) });

/**
 * Runs one factory-mode turn: RUN_STARTED, the factory's events, then exactly one terminal event:
 * RUN_FINISHED (with an `interrupt` outcome when the factory paused), RUN_FINISHED after a stop, or
 * RUN_ERROR with a safe message and a code when the factory or its stream fails. Never throws.
 *
 * @example
 * ```ts
 * await executeFactoryRun({ input, config, controller, emit: (events) => events.forEach(send) });
 * ```
 */
export async function executeFactoryRun({ input, config, controller, emit, agentId, forwardedHeaders, log }: FactoryRunContext): Promise<void> {
  const signal = controller.signal;
  const identity: RunIdentity = { agent: agentId, threadId: input.threadId, runId: input.runId, log };
  const lifecycle = { threadId: input.threadId, runId: input.runId };
  emit([{ type: EventType.RUN_STARTED, ...lifecycle } as BaseEvent]);
  const details: RunFinishedDetails = {};
  let finishedFields: Record<string, unknown> = {};
  try {
    const resume = parseResume((input as { resume?: unknown }).resume);
    const context: BuiltInAgentFactoryContext = {
      input: config.type === "custom" ? input : withResumeAnswers(input, resume),
      abortController: controller,
      abortSignal: signal,
      interrupt: async (interrupts) => answersFor(interrupts, resume),
      learnedSkills: NO_LEARNED_SKILLS,
    };
    const interrupts: Interrupt[] = [];
    let events: AsyncIterable<BaseEvent>;
    if (config.type === "aisdk") {
      const result = await config.factory(context);
      if (!result || typeof result !== "object" || !isAsyncIterable(result.fullStream)) {
        throw new TypeError('An "aisdk" factory must return the result of streamText() (an object with a fullStream).');
      }
      events = convertAISDKStream(result.fullStream, signal, interrupts, input.state, details);
    } else if (config.type === "tanstack") {
      const stream = await config.factory(context);
      if (!isAsyncIterable(stream)) throw new TypeError('A "tanstack" factory must return an async iterable of TanStack AI chunks.');
      events = convertTanStackStream(stream, signal, interrupts, input.state, details);
    } else {
      const stream = await config.factory(context);
      if (!isAsyncIterable(stream)) throw new TypeError('A "custom" factory must return an async iterable of AG-UI events.');
      events = stream;
    }
    for await (const event of events) {
      if (signal.aborted) break;
      if (!event || typeof event !== "object" || typeof event.type !== "string") {
        throw new TypeError("The factory produced something that is not an AG-UI event.");
      }
      // The lifecycle is ours: a factory's RUN_STARTED would be a second one, its RUN_FINISHED
      // lends its fields (outcome, result, usage) to the one we send at the end.
      if (event.type === EventType.RUN_STARTED) continue;
      if (event.type === EventType.RUN_FINISHED) {
        const { type: _type, threadId: _thread, runId: _run, ...fields } = event as BaseEvent & Record<string, unknown>;
        finishedFields = fields;
        continue;
      }
      emit([event]);
      if (event.type === EventType.RUN_ERROR) return; // the factory ended the run itself
    }
    if (signal.aborted) {
      emit([{ type: EventType.RUN_FINISHED, ...lifecycle } as BaseEvent]);
      return;
    }
    if (interrupts.length > 0) throw new InterruptSignal(interrupts);
    emit([finished(lifecycle, details, finishedFields)]);
  } catch (error) {
    if (error instanceof InterruptSignal) {
      emit([{ ...finished(lifecycle, details, finishedFields), outcome: { type: "interrupt", interrupts: error.interrupts } } as BaseEvent]);
      return;
    }
    if (signal.aborted) {
      emit([{ type: EventType.RUN_FINISHED, ...lifecycle } as BaseEvent]);
      return;
    }
    const failure = classifyRunError(error, configuredSecrets({ apiKeys: [], headers: forwardedHeaders }));
    logRunFailure(identity, failure);
    try {
      config.onRunError?.(error, { threadId: input.threadId, runId: input.runId, code: failure.code });
    } catch {
      // a failing hook must not keep the client from hearing about the error
    }
    emit([{ type: EventType.RUN_ERROR, message: failure.message, code: failure.code } as BaseEvent]);
  }
}

function finished(lifecycle: { threadId: string; runId: string }, details: RunFinishedDetails, fields: Record<string, unknown>): BaseEvent {
  return {
    ...fields,
    type: EventType.RUN_FINISHED,
    ...lifecycle,
    ...(details.usage?.length ? { usage: details.usage } : {}),
    ...(details.finishReason ? { metadata: { ...(fields.metadata as object | undefined), finishReason: details.finishReason } } : {}),
  } as BaseEvent;
}

/** `interrupt()`: the answers when the resume covers every interrupt, otherwise a pause. */
function answersFor(interrupts: Interrupt[], resume: readonly ResumeEntry[]): ResumeEntry[] {
  const ids = new Set(interrupts.map((interrupt) => interrupt.id));
  const answers = resume.filter((entry) => ids.has(entry.interruptId));
  if (interrupts.length > 0 && answers.length === ids.size) return answers;
  throw new InterruptSignal(interrupts);
}

/** The input with a tool message for each resume entry no tool message answers yet. */
function withResumeAnswers(input: RunAgentInput, resume: readonly ResumeEntry[]): RunAgentInput {
  if (resume.length === 0) return input;
  const answered = new Set(input.messages.filter((message) => message.role === "tool").map((message) => (message as { toolCallId: string }).toolCallId));
  const answers: Message[] = resume
    .filter((entry) => !answered.has(entry.interruptId))
    .map((entry) => ({
      id: randomUUID(),
      role: "tool",
      toolCallId: entry.interruptId,
      content: JSON.stringify(entry.status === "cancelled" ? { status: "cancelled" } : (entry.payload ?? { status: "resolved" })),
    }));
  return answers.length === 0 ? input : { ...input, messages: [...input.messages, ...answers] };
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return !!value && typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === "function";
}
