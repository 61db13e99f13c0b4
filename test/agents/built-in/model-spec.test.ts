import { afterEach, describe, expect, it, vi } from "vitest";
import { createOpenAI } from "@ai-sdk/openai";
import { BasicAgent, BuiltInAgent, classifyModelSpec, resolveModel } from "../../../src/built-in.js";
import { buildModel } from "../../../src/agents/built-in/resolve-model.js";

// Model strings and their classification, side by side with CopilotKit 1.75 on a table of inputs.

const v2 = () => import("@copilotkit/runtime/v2") as Promise<any>;
const BASE_URLS = ["OPENAI_BASE_URL", "ANTHROPIC_BASE_URL", "GOOGLE_GENERATIVE_AI_BASE_URL", "MINIMAX_BASE_URL"];
afterEach(() => vi.unstubAllEnvs());
const clearBaseUrls = () => BASE_URLS.forEach((name) => vi.stubEnv(name, ""));

/** What a resolved model is, or "error". */
function outcome(resolve: () => { provider: string; modelId: string }): string {
  try {
    const model = resolve();
    return `${model.provider} ${model.modelId}`;
  } catch {
    return "error";
  }
}

// Inputs where both must agree.
const SAME = [
  "openai/gpt-4o",
  "openai:gpt-4.1-mini",
  "OpenAI/GPT-4o",
  "  openai/gpt-4o  ",
  "anthropic/claude-sonnet-4-5",
  "anthropic:claude-opus-4-8",
  "google/gemini-2.5-pro",
  "gemini/gemini-2.5-flash",
  "google-gemini:gemini-2.5-flash-lite",
  "minimax/MiniMax-M3",
  "vertex/gemini-2.5-pro",
  "openai/ft:gpt-4o:org:custom",
  "openai/org/model",
  "mistral/large",
  "openai/",
  "/gpt-4o",
  "",
  "openai",
  "constructor/x",
];
// Inputs where we deliberately differ: 1.75 turns the first "/" anywhere into ":", so with a ":"
// separator a "/" inside the model id becomes ":" (a different model); it also keeps spaces around
// the provider name, which then is unknown.
const DIFFERENT: Array<[string, string, string]> = [
  ["openai:org/model", "openai.responses org/model", "openai.responses org:model"],
  ["openai / gpt-4o", "openai.responses gpt-4o", "error"],
];

describe("model strings, side by side with CopilotKit 1.75", () => {
  it.each(SAME)("resolveModel(%j) builds the same provider and model id, or fails the same", async (spec) => {
    clearBaseUrls();
    vi.stubEnv("GOOGLE_VERTEX_PROJECT", "p");
    vi.stubEnv("GOOGLE_VERTEX_LOCATION", "us-central1");
    const reference = await v2();
    expect(outcome(() => resolveModel(spec, "k-test") as any)).toBe(outcome(() => reference.resolveModel(spec, "k-test")));
  });

  it.each(DIFFERENT)("resolveModel(%j) is %j here, %j in 1.75 (deliberate)", async (spec, ours, theirs) => {
    clearBaseUrls();
    const reference = await v2();
    expect(outcome(() => resolveModel(spec, "k-test") as any)).toBe(ours);
    expect(outcome(() => reference.resolveModel(spec, "k-test"))).toBe(theirs);
  });

  const ENVIRONMENTS: Array<Record<string, string>> = [
    {},
    { OPENAI_BASE_URL: "https://acme.openai.azure.com/openai/v1" },
    { OPENAI_BASE_URL: "https://openrouter.ai/api/v1" },
    { OPENAI_BASE_URL: "http://127.0.0.1:11434/v1" },
    { OPENAI_BASE_URL: "http://172.20.0.5:8000/v1" },
    { OPENAI_BASE_URL: "http://172.40.0.5:8000/v1" },
    { OPENAI_BASE_URL: "https://bedrock-runtime.us-east-1.amazonaws.com" },
    { OPENAI_BASE_URL: "not a url" },
    { OPENAI_BASE_URL: "https://api.groq.com/openai/v1" },
    { ANTHROPIC_BASE_URL: "https://gateway.internal/anthropic" },
    { GOOGLE_GENERATIVE_AI_BASE_URL: "https://us-central1-aiplatform.googleapis.com" },
    { MINIMAX_BASE_URL: "https://api.minimaxi.com/v1" },
    { OPENAI_BASE_URL: "https://acme.openai.azure.com.attacker.test/v1" },
  ];
  const SPECS = ["openai/gpt-4o", "anthropic/c", "google/g", "gemini:g", "minimax/m", "vertex/v", "mistral/x", "openai", "OPENAI/x"];

  it.each(ENVIRONMENTS)("classifyModelSpec gives 1.75's class for every provider with %j", async (env) => {
    clearBaseUrls();
    for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
    const reference = await v2();
    for (const spec of SPECS) {
      expect({ spec, hostClass: classifyModelSpec(spec) }).toEqual({ spec, hostClass: reference.classifyModelSpec(spec) });
    }
    const model = createOpenAI({ apiKey: "k" })("gpt-4o");
    expect(classifyModelSpec(model)).toBe(reference.classifyModelSpec(model));
  });
});

describe("model strings", () => {
  it("vertex/ builds a Vertex AI model from Google Cloud settings, says which is missing, and the agent refuses an apiKey for it", () => {
    vi.stubEnv("GOOGLE_VERTEX_PROJECT", "p");
    vi.stubEnv("GOOGLE_VERTEX_LOCATION", "europe-west4");
    expect(buildModel("vertex/gemini-2.5-pro", { env: {} }).model).toMatchObject({ modelId: "gemini-2.5-pro", provider: "google.vertex.chat" });
    vi.stubEnv("GOOGLE_VERTEX_LOCATION", undefined);
    expect(() => buildModel("vertex/gemini-2.5-pro", { env: {} })).toThrow(expect.objectContaining({ code: "missing_api_key", message: expect.stringContaining("GOOGLE_VERTEX_LOCATION") }));
    expect(() => new BuiltInAgent({ model: "vertex/gemini-2.5-pro", apiKey: "k" })).toThrow(/apiKey does not apply to vertex/);
  });

  it("minimax/ reads MINIMAX_API_KEY and goes to MiniMax's API unless MINIMAX_BASE_URL says otherwise", () => {
    expect(() => buildModel("minimax/MiniMax-M3", { env: {} })).toThrow(/MINIMAX_API_KEY/);
    expect(buildModel("minimax/MiniMax-M3", { env: { MINIMAX_API_KEY: "mk" } })).toMatchObject({ apiKey: "mk", model: { modelId: "MiniMax-M3" } });
  });

  it("a BuiltInAgent exposes the model's host class; BasicAgent is the same agent under its old name", () => {
    vi.stubEnv("OPENAI_BASE_URL", "https://acme.openai.azure.com/openai/v1");
    expect(new BuiltInAgent({ model: "openai/gpt-4o" }).modelHostClass).toBe("azure");
    const basic = new BasicAgent({ model: "anthropic/claude-sonnet-4-5" });
    expect(basic).toBeInstanceOf(BuiltInAgent);
    expect(basic.modelHostClass).toBe("anthropic");
    expect(new BuiltInAgent({ model: "openai/gpt-4o", overridableProperties: ["temperature"] }).canOverride("temperature")).toBe(true);
    expect(new BuiltInAgent({ model: "openai/gpt-4o", overridableProperties: ["temperature"] }).canOverride("model")).toBe(false);
  });
});
