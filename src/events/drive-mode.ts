import type { AgentLike } from "./agent-contract.js";

/**
 * How the runtime drives an agent for one run.
 *
 * - `"run"`: subscribe to `agent.run(input)` directly. The fast path: `runAgent()` does per-event
 *   bookkeeping whose cost depends on the agent's own `@ag-ui/client` version (quadratic in 0.0.4x).
 * - `"runAgent"`: call `agent.runAgent(input, { onEvent })`, as CopilotKit does for every agent.
 *   Needed when `run()` is missing (duck-typed agents), when the class overrides `runAgent()` (its
 *   override is the agent's behaviour), or when `use()` middleware is attached (only `runAgent()`
 *   applies it).
 */
export type DriveMode = "run" | "runAgent";

/** Verdicts per prototype: a run pays one WeakMap lookup, not a prototype walk. */
const overrideByPrototype = new WeakMap<object, boolean>();

/**
 * Chooses how to drive `agent` (see {@link DriveMode}).
 *
 * @example
 * if (driveMode(agent) === "runAgent") await agent.runAgent!(input, { onEvent });
 */
export function driveMode(agent: AgentLike): DriveMode {
  const hasRun = typeof agent.run === "function";
  if (typeof agent.runAgent !== "function") return "run";
  if (!hasRun || hasMiddleware(agent)) return "runAgent";
  return overridesRunAgent(agent) ? "runAgent" : "run";
}

/** True when the agent has middleware added with `use()`, which only `runAgent()` applies. */
export function hasMiddleware(agent: AgentLike): boolean {
  const middlewares = (agent as { middlewares?: unknown[] }).middlewares;
  return Array.isArray(middlewares) && middlewares.length > 0;
}

/**
 * Whether `runAgent` is the agent's own rather than `AbstractAgent`'s.
 *
 * Comparing with one imported `AbstractAgent.prototype.runAgent` would misjudge every agent built
 * on another copy of `@ag-ui/client` (apps pin 0.0.4x, 0.0.5x or 1.0, often several at once), so
 * the agent's own prototype chain is the reference: its deepest `runAgent` belongs to its
 * `AbstractAgent` (recognised by `prepareRunAgentInput`, which every version has), and any
 * `runAgent` found before that one is an override. The library's `HttpAgent` overrides it only
 * to set up its abort controller, which its `run()` does not need from us; it is recognised as
 * the direct subclass of `AbstractAgent` that owns `requestInit`.
 */
export function overridesRunAgent(agent: AgentLike): boolean {
  if (Object.prototype.hasOwnProperty.call(agent, "runAgent")) return true; // set on the instance itself
  const prototype = Object.getPrototypeOf(agent) as object | null;
  if (prototype === null) return true;
  let verdict = overrideByPrototype.get(prototype);
  if (verdict === undefined) {
    verdict = judge(prototype);
    overrideByPrototype.set(prototype, verdict);
  }
  return verdict;
}

function judge(prototype: object): boolean {
  let first: object | undefined;
  let base: object | undefined;
  for (let p: object | null = prototype; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
    if (!owns(p, "runAgent")) continue;
    first ??= p;
    if (owns(p, "prepareRunAgentInput")) base = p;
  }
  if (first === undefined || base === undefined) return true; // a runAgent of its own, no AbstractAgent under it
  if (first === base) return false;
  return !(Object.getPrototypeOf(first) === base && owns(first, "requestInit"));
}

function owns(object: object, name: string): boolean {
  return Object.prototype.hasOwnProperty.call(object, name);
}
