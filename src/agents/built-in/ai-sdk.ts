/**
 * The Vercel AI SDK (`ai`), which every BuiltInAgent needs: loaded with this module, so importing
 * `copilot-runtime/built-in` without it fails at once with the package to install.
 */
import type * as AiSdk from "ai";
import { requireOptional } from "../../optional-dependency.js";

/** The `ai` package's exports. */
export const ai = requireOptional<typeof AiSdk>({ specifier: "ai", packageName: "ai", version: "6", neededBy: "BuiltInAgent" });
