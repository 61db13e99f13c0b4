import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { formatPretty } from "../../../src/cli/log-output.js";

export const CLI = fileURLToPath(new URL("../../../dist/cli/main.js", import.meta.url));

/** Variables the CLI reads to pick agents; removed from the inherited environment so each test sets its own. */
const MODEL_ENV = [
  "OPENAI_API_KEY",
  "OPENAI_BASE_URL",
  "ANTHROPIC_API_KEY",
  "ANTHROPIC_BASE_URL",
  "GOOGLE_API_KEY",
  "GOOGLE_GENERATIVE_AI_API_KEY",
  "GOOGLE_GENERATIVE_AI_BASE_URL",
  "COPILOT_RUNTIME_MODEL",
  "PORT",
  "HOST",
];

function cliEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base = { ...process.env };
  for (const name of MODEL_ENV) delete base[name];
  return { ...base, ...env };
}

function spawnCli(args: string[], options: { env?: Record<string, string>; cwd?: string }): ChildProcess {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npx tsup\` first (npm test does).`);
  return spawn(process.execPath, [CLI, ...args], {
    cwd: options.cwd,
    env: cliEnv(options.env ?? {}),
    stdio: ["ignore", "pipe", "pipe"],
  });
}

export interface RunningCli {
  child: ChildProcess;
  /** The runtime URL from the listening line, e.g. `http://127.0.0.1:4123/api/copilotkit`. */
  url: string;
  /**
   * Everything printed so far, stdout and stderr, as a person reads it: stdout's JSON log lines
   * rendered as `--log-format pretty` would print them (message, fields, error stack).
   */
  output: () => string;
  /** Everything printed so far, exactly as written (stdout's JSON lines as they are). */
  rawOutput: () => string;
}

/** Text with each JSON log line (an object with `level` and `msg`) rendered as a pretty line. */
export function readable(text: string): string {
  return text
    .split("\n")
    .map((line) => {
      if (!line.startsWith("{")) return line;
      try {
        const record = JSON.parse(line) as Record<string, unknown>;
        return typeof record.level === "number" && "msg" in record ? formatPretty(record) : line;
      } catch {
        return line;
      }
    })
    .join("\n");
}

const running: ChildProcess[] = [];

/** Kills every CLI started by {@link startCli} (call in afterEach). */
export function killAllClis(): void {
  for (const child of running.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
}

/** Starts `copilot-runtime serve --port 0 --host 127.0.0.1 ...` and waits for its listening line. */
export function startCli(args: string[], options: { env?: Record<string, string>; cwd?: string } = {}): Promise<RunningCli> {
  const child = spawnCli(["serve", "--port", "0", "--host", "127.0.0.1", ...args], options);
  running.push(child);
  let output = "";
  return new Promise((resolve, reject) => {
    child.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) resolve({ child, url: match[1], output: () => readable(output), rawOutput: () => output });
    });
    child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("exit", (code) => reject(new Error(`CLI exited with ${code} before listening:\n${output}`)));
  });
}

/** Runs the CLI to its exit (for start-up failures); a CLI that starts listening is killed and reported. */
export function runCliToExit(
  args: string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawnCli(["serve", "--port", "0", "--host", "127.0.0.1", ...args], options);
  running.push(child);
  let stdout = "";
  let stderr = "";
  return new Promise((resolve) => {
    child.stdout!.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      if (/listening on/.test(stdout)) child.kill("SIGKILL");
    });
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}
