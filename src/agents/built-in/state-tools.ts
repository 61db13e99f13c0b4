import type { Tool } from "ai";
import jsonPatch from "fast-json-patch";
import type { Operation } from "fast-json-patch";
import { z } from "zod";
import { STATE_DELTA_TOOL, STATE_SNAPSHOT_TOOL } from "./define-tool.js";

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
        // applyPatch validates every operation against the document and throws on the first bad one.
        const document = jsonPatch.deepClone(state.current ?? {}) as object;
        state.current = jsonPatch.applyPatch(document, delta as Operation[], true, true).newDocument;
        return { success: true };
      },
    } as Tool,
  };
}
