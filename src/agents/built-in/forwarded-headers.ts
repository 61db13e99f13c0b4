import { mergeAgentHeaders } from "../../http/forward-headers.js";
import type { ForwardedHeaderSelection } from "./types.js";

/** Headers that carry a model provider's key: never taken from a user's request. */
export const PROVIDER_CREDENTIAL_HEADERS: ReadonlySet<string> = new Set(["authorization", "x-api-key", "api-key", "x-goog-api-key"]);

/**
 * The forwarded headers an outbound call asked for (`true`: all; a list: those names, any case),
 * under the headers the configuration sets itself, which win whatever their case.
 *
 * @example
 * ```ts
 * outboundHeaders({ authorization: "Bearer u1", "x-trace": "t" }, ["Authorization"], { "x-team": "a" });
 * // { authorization: "Bearer u1", "x-team": "a" }
 * ```
 */
export function outboundHeaders(
  forwarded: Record<string, string> | undefined,
  selection: ForwardedHeaderSelection | undefined,
  configured: Record<string, string> | undefined,
): Record<string, string> {
  return mergeAgentHeaders(pickForwarded(forwarded, selection), configured);
}

function pickForwarded(forwarded: Record<string, string> | undefined, selection: ForwardedHeaderSelection | undefined): Record<string, string> {
  if (!forwarded || !selection) return {};
  if (selection === true) return { ...forwarded };
  const wanted = new Set(selection.map((name) => name.toLowerCase()));
  const picked: Record<string, string> = {};
  for (const [name, value] of Object.entries(forwarded)) if (wanted.has(name.toLowerCase())) picked[name] = value;
  return picked;
}

/**
 * Checks a `forwardHeaders` / `forwardHeadersToModel` option at construction, so a typo is an error
 * at start-up rather than a header that silently never arrives.
 *
 * @example
 * ```ts
 * checkHeaderSelection(["authorization"], "mcpServers[0].forwardHeaders");
 * ```
 */
export function checkHeaderSelection(selection: unknown, where: string, options: { allowTrue: boolean; refuse?: ReadonlySet<string> }): void {
  if (selection === undefined || selection === false) return;
  if (selection === true && options.allowTrue) return;
  if (!Array.isArray(selection) || selection.some((name) => typeof name !== "string" || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name))) {
    throw new TypeError(`BuiltInAgent: ${where} must be ${options.allowTrue ? "true or " : ""}a list of header names.`);
  }
  const refused = selection.find((name) => options.refuse?.has(name.toLowerCase()));
  if (refused) throw new TypeError(`BuiltInAgent: ${where} cannot forward "${refused}": it carries the model provider's key.`);
}
