/**
 * The `copilot-runtime/built-in` entry: the names of built-in.ts, and the AI SDK asked for at
 * import, so an app without `ai` learns it at start-up with the command that installs it.
 * (`copilot-runtime/v2` re-exports built-in.ts without this check: there BuiltInAgent asks for
 * `ai` when it is created, and the rest of the runtime works without it.)
 */
import { loadAiSdk } from "./agents/built-in/ai-sdk.js";

export * from "./built-in.js";

loadAiSdk();
