/**
 * The AI SDK, its providers and the MCP SDK, loaded through {@link requireOptional} so that an app
 * without them gets the package to install rather than "Cannot find module": a provider package
 * when a model string names its provider, the MCP SDK for agents with `mcpServers`. (`ai` itself,
 * which every BuiltInAgent needs, is loaded by ai-sdk.ts.)
 */
import type * as AnthropicProvider from "@ai-sdk/anthropic";
import type * as GoogleProvider from "@ai-sdk/google";
import type * as VertexProvider from "@ai-sdk/google-vertex";
import type * as OpenAIProvider from "@ai-sdk/openai";
import type * as McpClient from "@modelcontextprotocol/sdk/client/index.js";
import type * as McpSse from "@modelcontextprotocol/sdk/client/sse.js";
import type * as McpStreamableHttp from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { requireOptional } from "../../optional-dependency.js";
import type { LanguageModelObject } from "./types.js";

/** A provider BuiltInAgent can build a model for from a `"provider/model"` string. */
export type KnownProvider = "openai" | "anthropic" | "google" | "minimax" | "vertex";

type ProviderFactory = (settings: { apiKey?: string; baseURL?: string }) => (modelId: string) => LanguageModelObject;

const PROVIDERS: Record<KnownProvider, { packageName: string; load: (packageName: string) => ProviderFactory }> = {
  openai: { packageName: "@ai-sdk/openai", load: (name) => requirePackage<typeof OpenAIProvider>(name, "openai").createOpenAI },
  anthropic: {
    packageName: "@ai-sdk/anthropic",
    load: (name) => requirePackage<typeof AnthropicProvider>(name, "anthropic").createAnthropic,
  },
  google: {
    packageName: "@ai-sdk/google",
    load: (name) => requirePackage<typeof GoogleProvider>(name, "google").createGoogleGenerativeAI,
  },
  // MiniMax speaks OpenAI's API; the provider name keeps its models apart in logs and usage.
  minimax: {
    packageName: "@ai-sdk/openai",
    load: (name) => {
      const { createOpenAI } = requirePackage<typeof OpenAIProvider>(name, "minimax");
      return (settings) => createOpenAI({ ...settings, name: "minimax" });
    },
  },
  // Vertex AI authenticates with Google Cloud credentials (GOOGLE_VERTEX_PROJECT, GOOGLE_VERTEX_LOCATION,
  // application default credentials), not an API key.
  vertex: {
    packageName: "@ai-sdk/google-vertex",
    load: (name) => {
      const { createVertex } = requirePackage<typeof VertexProvider>(name, "vertex");
      return ({ baseURL }) => createVertex(baseURL ? { baseURL } : {}) as unknown as (modelId: string) => LanguageModelObject;
    },
  },
};

const loadedProviders = new Map<KnownProvider, ProviderFactory>();

/**
 * The `create...` function of a provider's AI SDK package, e.g. `createOpenAI` from
 * `@ai-sdk/openai`; throws a `MissingDependencyError` naming the package when it is not installed.
 *
 * @example
 * ```ts
 * const model = loadProvider("openai")({ apiKey })("gpt-4.1");
 * ```
 */
export function loadProvider(provider: KnownProvider): ProviderFactory {
  let factory = loadedProviders.get(provider);
  if (!factory) {
    const { packageName, load } = PROVIDERS[provider];
    factory = load(packageName);
    loadedProviders.set(provider, factory);
  }
  return factory;
}

function requirePackage<T>(packageName: string, provider: string): T {
  return requireOptional<T>({ specifier: packageName, packageName, version: "3", neededBy: `BuiltInAgent with a "${provider}/..." model` });
}

/** The parts of the MCP SDK a BuiltInAgent uses to reach `mcpServers`. */
export interface McpSdk {
  Client: typeof McpClient.Client;
  SSEClientTransport: typeof McpSse.SSEClientTransport;
  StreamableHTTPClientTransport: typeof McpStreamableHttp.StreamableHTTPClientTransport;
}

let mcpSdk: McpSdk | undefined;

/**
 * The MCP SDK's client classes; throws a `MissingDependencyError` when
 * `@modelcontextprotocol/sdk` is not installed.
 *
 * @example
 * ```ts
 * const { Client } = loadMcpSdk();
 * ```
 */
export function loadMcpSdk(): McpSdk {
  if (mcpSdk) return mcpSdk;
  const load = <T>(specifier: string) =>
    requireOptional<T>({ specifier, packageName: "@modelcontextprotocol/sdk", version: "1", neededBy: "BuiltInAgent with mcpServers" });
  mcpSdk = {
    Client: load<typeof McpClient>("@modelcontextprotocol/sdk/client/index.js").Client,
    SSEClientTransport: load<typeof McpSse>("@modelcontextprotocol/sdk/client/sse.js").SSEClientTransport,
    StreamableHTTPClientTransport: load<typeof McpStreamableHttp>("@modelcontextprotocol/sdk/client/streamableHttp.js")
      .StreamableHTTPClientTransport,
  };
  return mcpSdk;
}
