import { describe, expect, it } from "vitest";
import { createSelectedAgent, selectModel, selectTranscription } from "../../src/cli/agents.js";
import { BuiltInAgent } from "../../src/agents/built-in/agent.js";
import type { BuiltInAgentConfig } from "../../src/agents/built-in/types.js";
import { DemoAgent } from "../../src/agents/demo.js";
import { CliStartupError } from "../../src/cli/errors.js";

describe("selectModel (the CLI's agent from the environment)", () => {
  it("takes a minimax/ model with MINIMAX_API_KEY, and sends vertex/ models to a config file", () => {
    expect(selectModel({ COPILOT_RUNTIME_MODEL: "minimax/MiniMax-M3", MINIMAX_API_KEY: "mk" })).toMatchObject({ model: "minimax/MiniMax-M3", keyVariable: "MINIMAX_API_KEY" });
    expect(() => selectModel({ COPILOT_RUNTIME_MODEL: "minimax/MiniMax-M3" })).toThrow(/set MINIMAX_API_KEY/);
    expect(() => selectModel({ COPILOT_RUNTIME_MODEL: "vertex/gemini-2.5-pro" })).toThrow(/Google Cloud credentials; register the agent in a config file/);
  });

  it("picks the demo agent when no provider key is set", () => {
    expect(selectModel({})).toEqual({ kind: "demo", reason: "no-key" });
    expect(selectModel({ OPENAI_API_KEY: "  ", ANTHROPIC_API_KEY: "" })).toEqual({ kind: "demo", reason: "no-key" });
  });

  it("picks the default model of the provider whose key is present", () => {
    expect(selectModel({ OPENAI_API_KEY: "sk-1" })).toEqual({
      kind: "built-in",
      model: "openai/gpt-4.1",
      provider: "openai",
      keyVariable: "OPENAI_API_KEY",
      source: "default",
    });
    expect(selectModel({ ANTHROPIC_API_KEY: "sk-ant" })).toMatchObject({ model: "anthropic/claude-sonnet-4-5", keyVariable: "ANTHROPIC_API_KEY" });
    expect(selectModel({ GOOGLE_API_KEY: "g" })).toMatchObject({ model: "google/gemini-2.5-flash", keyVariable: "GOOGLE_API_KEY" });
    expect(selectModel({ GOOGLE_GENERATIVE_AI_API_KEY: "g" })).toMatchObject({
      provider: "google",
      keyVariable: "GOOGLE_GENERATIVE_AI_API_KEY",
    });
  });

  it("prefers OpenAI, then Anthropic, then Google when several keys are set", () => {
    expect(selectModel({ GOOGLE_API_KEY: "g", ANTHROPIC_API_KEY: "a", OPENAI_API_KEY: "o" })).toMatchObject({ provider: "openai" });
    expect(selectModel({ GOOGLE_API_KEY: "g", ANTHROPIC_API_KEY: "a" })).toMatchObject({ provider: "anthropic" });
  });

  it("uses COPILOT_RUNTIME_MODEL, in either separator form, over the default", () => {
    expect(selectModel({ OPENAI_API_KEY: "o", ANTHROPIC_API_KEY: "a", COPILOT_RUNTIME_MODEL: "anthropic:claude-opus-4-1" })).toEqual({
      kind: "built-in",
      model: "anthropic/claude-opus-4-1",
      provider: "anthropic",
      keyVariable: "ANTHROPIC_API_KEY",
      source: "env",
    });
    expect(selectModel({ OPENAI_API_KEY: "o", COPILOT_RUNTIME_MODEL: " openai/gpt-4o " })).toMatchObject({ model: "openai/gpt-4o", source: "env" });
    expect(selectModel({ GOOGLE_GENERATIVE_AI_API_KEY: "g", COPILOT_RUNTIME_MODEL: "gemini/gemini-2.5-pro" })).toMatchObject({
      model: "google/gemini-2.5-pro",
      provider: "google",
    });
  });

  it("lets COPILOT_RUNTIME_MODEL=demo force the demo agent even with a key", () => {
    expect(selectModel({ OPENAI_API_KEY: "o", COPILOT_RUNTIME_MODEL: "demo" })).toEqual({ kind: "demo", reason: "forced" });
  });

  it("rejects an unknown provider, a model without a provider and a missing key with a CliStartupError", () => {
    const attempt = (env: Record<string, string>) => {
      try {
        selectModel(env);
      } catch (error) {
        expect(error).toBeInstanceOf(CliStartupError);
        expect((error as CliStartupError).exitCode).toBe(2);
        return (error as Error).message;
      }
      throw new Error("expected selectModel to throw");
    };
    expect(attempt({ OPENAI_API_KEY: "o", COPILOT_RUNTIME_MODEL: "mistral/mistral-large" })).toMatch(
      /COPILOT_RUNTIME_MODEL: Unknown model provider "mistral".*Supported: openai, anthropic, google/,
    );
    expect(attempt({ OPENAI_API_KEY: "o", COPILOT_RUNTIME_MODEL: "gpt-4o" })).toMatch(/COPILOT_RUNTIME_MODEL: Invalid model "gpt-4o": use "provider\/model"/);
    expect(attempt({ OPENAI_API_KEY: "o", COPILOT_RUNTIME_MODEL: "anthropic/claude-sonnet-4-5" })).toBe(
      'COPILOT_RUNTIME_MODEL=anthropic/claude-sonnet-4-5 needs an API key for "anthropic": set ANTHROPIC_API_KEY.',
    );
  });
});

describe("createSelectedAgent", () => {
  it("builds a BuiltInAgent on the selected model and says where it came from, never the key", async () => {
    const { agent, description } = await createSelectedAgent(selectModel({ OPENAI_API_KEY: "sk-secret-123" }));
    expect(agent).toBeInstanceOf(BuiltInAgent);
    expect(((agent as BuiltInAgent).configuration as BuiltInAgentConfig).model).toBe("openai/gpt-4.1");
    expect(description).toBe("BuiltInAgent, model openai/gpt-4.1 (OPENAI_API_KEY is set; choose another model with COPILOT_RUNTIME_MODEL)");
    expect(description).not.toContain("sk-secret");
  });

  it("builds the demo agent without a key", async () => {
    const { agent, description } = await createSelectedAgent(selectModel({}));
    expect(agent).toBeInstanceOf(DemoAgent);
    expect(description).toMatch(/^demo agent \(no provider key: set OPENAI_API_KEY/);
  });
});

describe("selectTranscription", () => {
  it("turns /transcribe on with OPENAI_API_KEY and OPENAI_BASE_URL, off without", () => {
    expect(selectTranscription({ ANTHROPIC_API_KEY: "a" })).toEqual({ description: "off (set OPENAI_API_KEY to enable /transcribe)" });
    const on = selectTranscription({ OPENAI_API_KEY: "sk-1", OPENAI_BASE_URL: "http://127.0.0.1:9/v1/" });
    expect(on.service).toBeDefined();
    expect((on.service as unknown as { baseURL: string }).baseURL).toBe("http://127.0.0.1:9/v1");
    expect(on.description).toBe("/transcribe on: OpenAI whisper-1 (OPENAI_API_KEY is set)");
  });
});
