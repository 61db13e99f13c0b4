import { createOpenAI } from "@ai-sdk/openai";
import { describe, expect, it } from "vitest";
import { BuiltInAgentError } from "../../../src/agents/built-in/errors.js";
import { buildModel as resolveModel, parseModelId, providerOf } from "../../../src/agents/built-in/resolve-model.js";

const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return error instanceof BuiltInAgentError ? error.code : `not a BuiltInAgentError: ${String(error)}`;
  }
  return "no error";
};

describe("parseModelId", () => {
  it.each([
    ["openai/gpt-4o", "openai", "gpt-4o"],
    ["openai:gpt-4o", "openai", "gpt-4o"],
    ["OpenAI/gpt-4o", "openai", "gpt-4o"],
    [" anthropic / claude-sonnet-4-5 ", "anthropic", "claude-sonnet-4-5"],
    ["google/gemini-2.5-pro", "google", "gemini-2.5-pro"],
    ["gemini:gemini-2.5-flash", "google", "gemini-2.5-flash"],
    ["google-gemini/gemini-2.5-flash", "google", "gemini-2.5-flash"],
    ["openai/ft:gpt-4o-mini:acme:custom:abc123", "openai", "ft:gpt-4o-mini:acme:custom:abc123"],
  ])("reads %j", (spec, provider, modelId) => {
    expect(parseModelId(spec)).toEqual({ provider, modelId });
  });

  it.each([["gpt-4o"], [""], ["openai/"], ["/gpt-4o"]])("rejects %j as invalid_model", (spec) => {
    expect(codeOf(() => parseModelId(spec))).toBe("invalid_model");
  });

  it("rejects an unknown provider as unknown_provider", () => {
    expect(codeOf(() => parseModelId("mistral/large"))).toBe("unknown_provider");
  });

  it("tells which provider a specifier names", () => {
    expect(providerOf("anthropic/x")).toBe("anthropic");
    expect(providerOf("nope/x")).toBeUndefined();
    expect(providerOf(createOpenAI({ apiKey: "k" })("gpt-4o"))).toBeUndefined();
  });
});

describe("resolveModel", () => {
  it("passes a LanguageModel object through", () => {
    const model = createOpenAI({ apiKey: "k" }).chat("gpt-4o");
    expect(resolveModel(model).model).toBe(model);
  });

  it("builds each provider's model from an explicit key", () => {
    expect(resolveModel("openai/gpt-4o", { apiKey: "k1", env: {} }).model).toMatchObject({ provider: "openai.responses", modelId: "gpt-4o" });
    expect(resolveModel("anthropic/claude-x", { apiKey: "k2", env: {} }).model).toMatchObject({ provider: "anthropic.messages", modelId: "claude-x" });
    expect(resolveModel("gemini/gemini-2.5-pro", { apiKey: "k3", env: {} }).model).toMatchObject({ modelId: "gemini-2.5-pro" });
  });

  it("falls back to the provider's environment variables", () => {
    expect(resolveModel("openai/gpt-4o", { env: { OPENAI_API_KEY: "env-openai" } }).apiKey).toBe("env-openai");
    expect(resolveModel("anthropic/c", { env: { ANTHROPIC_API_KEY: "env-anthropic" } }).apiKey).toBe("env-anthropic");
    expect(resolveModel("google/g", { env: { GOOGLE_API_KEY: "env-google" } }).apiKey).toBe("env-google");
    expect(resolveModel("google/g", { env: { GOOGLE_GENERATIVE_AI_API_KEY: "env-google-2" } }).apiKey).toBe("env-google-2");
  });

  it("reports a missing or blank key as missing_api_key", () => {
    expect(codeOf(() => resolveModel("openai/gpt-4o", { env: {} }))).toBe("missing_api_key");
    expect(codeOf(() => resolveModel("openai/gpt-4o", { apiKey: "  ", env: { OPENAI_API_KEY: "" } }))).toBe("missing_api_key");
  });

  it("uses the configured key only for the configured provider", () => {
    // An overridden model naming another provider must not receive the configured provider's key.
    expect(codeOf(() => resolveModel("anthropic/c", { apiKey: "openai-key", provider: "openai", env: {} }))).toBe("missing_api_key");
    expect(resolveModel("anthropic/c", { apiKey: "openai-key", provider: "openai", env: { ANTHROPIC_API_KEY: "a" } }).apiKey).toBe("a");
    expect(resolveModel("openai/o", { apiKey: "openai-key", provider: "openai", env: {} }).apiKey).toBe("openai-key");
  });
});
