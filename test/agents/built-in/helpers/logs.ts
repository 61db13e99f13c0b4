import { afterEach, beforeEach } from "vitest";
import { setLogger } from "../../../../src/logger.js";

/** One line the runtime logged. */
export interface LogLine {
  level: "info" | "warn" | "error";
  message: string;
  details: Record<string, any>;
  /** Everything the line carries, serialised: for "never contains" checks. */
  text: string;
}

/** Captures the runtime logger's lines during each test of the file (restored after each). */
export function useLogCapture(): LogLine[] {
  const lines: LogLine[] = [];
  // pino's shape: (fields, message)
  const record = (level: LogLine["level"]) => (fields: Record<string, unknown>, message: string, ...rest: unknown[]) => {
    lines.push({ level, message, details: fields as Record<string, any>, text: JSON.stringify([message, fields, ...rest]) });
  };
  beforeEach(() => {
    lines.length = 0;
    setLogger({ info: record("info"), warn: record("warn"), error: record("error") });
  });
  afterEach(() => setLogger());
  return lines;
}

/** The lines about BuiltInAgent runs and tools (the AI SDK's own warnings are not ours). */
export const agentLines = (lines: LogLine[]) => lines.filter((line) => line.message.startsWith("BuiltInAgent"));
