import { DEFAULT_INPUT_LIMITS, identifierProblem, type InputLimits } from "../events/input-limits.js";
import { HTTP_ERRORS, httpError } from "../errors.js";
import type { RunInput } from "../events/types.js";
import { HttpError } from "./errors.js";

const ROLES = new Set(["developer", "system", "assistant", "user", "tool", "activity", "reasoning"]);

/**
 * Validates a `RunAgentInput` body the way every client version sends it, liberally:
 * unknown keys pass through, `tools`/`context` default to `[]`, snake_case ids are accepted.
 * A body that is not a run input is a 400 `Invalid request body` naming the first problem.
 * Every id and tool name must pass `identifierProblem` (length, NUL, lone surrogates), so
 * nothing reaches a runner's store that it cannot keep and compare back.
 */
export function parseRunInput(body: unknown, limits: InputLimits = DEFAULT_INPUT_LIMITS): RunInput {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw invalid("the body must be a JSON object (an AG-UI RunAgentInput)");
  }
  const input = { ...(body as Record<string, unknown>) };
  if (input.threadId === undefined && typeof input.thread_id === "string") input.threadId = input.thread_id;
  if (input.runId === undefined && typeof input.run_id === "string") input.runId = input.run_id;
  const id = (value: unknown, field: string) => requireId(value, field, limits.maxIdLength);
  id(input.threadId, "threadId");
  id(input.runId, "runId");
  if (input.parentRunId !== undefined && input.parentRunId !== null) {
    if (typeof input.parentRunId !== "string") throw invalid("parentRunId must be a string");
    if (input.parentRunId !== "") id(input.parentRunId, "parentRunId");
  }
  if (input.parentRunId === null) delete input.parentRunId;
  if (!Array.isArray(input.messages)) throw invalid("messages must be an array");
  input.messages.forEach((message, index) => checkMessage(message, index, limits));
  input.tools = optionalArray(input.tools, "tools");
  (input.tools as unknown[]).forEach((tool, i) => {
    if (!isObject(tool) || typeof tool.name !== "string") throw invalid(`tools[${i}].name must be a string`);
    requireId(tool.name, `tools[${i}].name`, limits.maxNameLength);
  });
  input.context = optionalArray(input.context, "context");
  (input.context as unknown[]).forEach((item, i) => {
    if (!isObject(item) || typeof item.value !== "string") throw invalid(`context[${i}].value must be a string`);
  });
  return input as RunInput;
}

function checkMessage(message: unknown, index: number, limits: InputLimits): void {
  const at = `messages[${index}]`;
  if (!isObject(message)) throw invalid(`${at} must be an object`);
  requireId(message.id, `${at}.id`, limits.maxIdLength);
  if (typeof message.role !== "string" || !ROLES.has(message.role)) {
    throw invalid(`${at}.role must be one of ${[...ROLES].join(", ")}`);
  }
  if (typeof message.name === "string" && message.name !== "") requireId(message.name, `${at}.name`, limits.maxNameLength);
  if (message.role === "tool") {
    if (typeof message.toolCallId !== "string") throw invalid(`${at}.toolCallId must be a string`);
    requireId(message.toolCallId, `${at}.toolCallId`, limits.maxIdLength);
  }
  if (message.role === "assistant" && message.toolCalls !== undefined && message.toolCalls !== null) {
    if (!Array.isArray(message.toolCalls)) throw invalid(`${at}.toolCalls must be an array`);
    message.toolCalls.forEach((call, i) => {
      if (!isObject(call) || typeof call.id !== "string" || !isObject(call.function) || typeof call.function.name !== "string") {
        throw invalid(`${at}.toolCalls[${i}] must have an id and a function name`);
      }
      requireId(call.id, `${at}.toolCalls[${i}].id`, limits.maxIdLength);
      requireId(call.function.name, `${at}.toolCalls[${i}].function.name`, limits.maxNameLength);
    });
  }
}

function requireId(value: unknown, field: string, maxLength: number): void {
  if (typeof value !== "string") throw invalid(`${field} must be a non-empty string`);
  const problem = identifierProblem(value, maxLength);
  if (problem !== undefined) throw invalid(`${field} ${problem}`);
}

function optionalArray(value: unknown, field: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalid(`${field} must be an array`);
  return value;
}

function isObject(value: unknown): value is Record<string, any> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function invalid(details: string): HttpError {
  return httpError(HTTP_ERRORS.invalidRunInput, `Invalid request body: ${details}.`, { details });
}
