import type { Tool } from "ai";
import jsonPatch from "fast-json-patch";
import type { Operation } from "fast-json-patch";
import { z } from "zod";
import { STATE_DELTA_TOOL, STATE_SNAPSHOT_TOOL } from "./define-tool.js";
import { ToolCallFailure } from "./tool-errors.js";

const operationSchema = z.discriminatedUnion("op", [
  z.object({ op: z.literal("add"), path: z.string(), value: z.any() }),
  z.object({ op: z.literal("replace"), path: z.string(), value: z.any() }),
  z.object({ op: z.literal("remove"), path: z.string() }),
  z.object({ op: z.literal("move"), from: z.string(), path: z.string() }),
  z.object({ op: z.literal("copy"), from: z.string(), path: z.string() }),
  z.object({ op: z.literal("test"), path: z.string(), value: z.any() }),
]);

/** One JSON Patch (RFC 6902) operation, as carried by STATE_DELTA. */
export type StatePatchOperation = z.infer<typeof operationSchema>;

/** The application state as the model has changed it so far in this run. */
export interface RunState {
  current: unknown;
}

/**
 * The tools through which the model edits the application state. Each successful call becomes a
 * `STATE_SNAPSHOT` or `STATE_DELTA` event (see the event mapper). A delta is checked against the state
 * as it is at that point of the run, so a patch the client could not apply goes back to the model as a
 * tool error it can correct, instead of being silently dropped by the client.
 *
 * @example
 * ```ts
 * const tools = createStateTools({ current: { todos: [] } });
 * ```
 */
export function createStateTools(state: RunState): Record<string, Tool> {
  return {
    [STATE_SNAPSHOT_TOOL]: {
      description: "Replace the entire application state with a new snapshot.",
      inputSchema: z.object({ snapshot: z.any().describe("The complete new state") }),
      execute: async ({ snapshot }: { snapshot: unknown }) => {
        state.current = snapshot ?? {};
        return { success: true };
      },
    } as Tool,
    [STATE_DELTA_TOOL]: {
      description:
        "Apply incremental updates to the application state with JSON Patch (RFC 6902) operations, " +
        "e.g. [{ op: 'replace', path: '/count', value: 2 }].",
      inputSchema: z.object({ delta: z.array(operationSchema).describe("JSON Patch operations") }),
      execute: async ({ delta }: { delta: StatePatchOperation[] }) => {
        state.current = applyStatePatch(state.current, delta);
        return { success: true };
      },
    } as Tool,
  };
}

const MAX_PATH_IN_ERROR = 200;

// fast-json-patch's error names, in words the model can act on.
const PATCH_PROBLEMS: Record<string, string> = {
  OPERATION_PATH_UNRESOLVABLE: "the path does not exist in the state",
  OPERATION_FROM_UNRESOLVABLE: "the `from` path does not exist in the state",
  OPERATION_PATH_ILLEGAL_ARRAY_INDEX: "the path has an invalid array index",
  OPERATION_VALUE_OUT_OF_BOUNDS: "the array index is out of bounds",
  OPERATION_VALUE_REQUIRED: "the operation needs a `value`",
  OPERATION_VALUE_CANNOT_CONTAIN_UNDEFINED: "the value contains undefined",
  OPERATION_PATH_INVALID: "the path is not a JSON pointer",
  OPERATION_FROM_REQUIRED: "the operation needs a `from`",
  OPERATION_OP_INVALID: "the operation is unknown",
  TEST_OPERATION_FAILED: "the `test` did not match the state",
};

/**
 * Applies a patch to a copy of the state, all or nothing. A failing operation is reported by its
 * index, kind and path, never with the document (fast-json-patch's own message copies the whole
 * state into it, which made a 106 KB state a 178 KB tool result).
 */
export function applyStatePatch(current: unknown, delta: readonly StatePatchOperation[]): unknown {
  let document = jsonPatch.deepClone(current ?? {}) as unknown;
  delta.forEach((operation, index) => {
    try {
      document = jsonPatch.applyOperation(document as object, operation as Operation, true, true, true, index).newDocument;
    } catch (error) {
      const name = (error as { name?: unknown }).name;
      const problem = (typeof name === "string" && PATCH_PROBLEMS[name]) || "it could not be applied";
      const path = operation.path.length > MAX_PATH_IN_ERROR ? `${operation.path.slice(0, MAX_PATH_IN_ERROR)}…` : operation.path;
      throw ToolCallFailure.reported(
        `The state was not changed: operation ${index} (${operation.op} ${JSON.stringify(path)}) failed because ${problem}.`,
      );
    }
  });
  return document;
}
