/**
 * The runners the client scenarios run against: the behaviour a CopilotKit frontend sees must
 * not depend on where threads are kept.
 */
import type { AgentRunner } from "../../src/runners/agent-runner.js";
import { InMemoryAgentRunner } from "../../src/runners/in-memory.js";
import { SqliteAgentRunner } from "../../src/runners/sqlite.js";

export interface CompatRunner {
  name: string;
  create(): AgentRunner;
}

export const compatRunners: CompatRunner[] = [
  { name: "InMemoryAgentRunner", create: () => new InMemoryAgentRunner() },
  { name: "SqliteAgentRunner", create: () => new SqliteAgentRunner({ path: ":memory:" }) },
];

/** Releases what a runner holds (SQLite handles, timers). */
export async function closeRunner(runner: AgentRunner): Promise<void> {
  const closable = runner as AgentRunner & { close?: () => Promise<void> };
  if (typeof closable.close === "function") await closable.close();
}
