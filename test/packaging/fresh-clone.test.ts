/**
 * The README's first command on a fresh clone: `npm install && npm start` installs, builds and
 * serves the demo agent with no API key. (The second, `npm test`, is the command running this.)
 * The clone holds what is committed; `PORT=0` only keeps it off a port something else may hold.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { parseSse } from "../helpers/sse.js";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), "fresh-clone-"));
// The clone holds a full node_modules: removing it can take longer than the default hook timeout
// on a loaded machine, and it is only clean-up.
afterAll(() => rm(dir, { recursive: true, force: true, maxRetries: 3 }), 180_000);

describe("the README's first command on a fresh clone", () => {
  it("npm install && npm start serves the demo agent", async () => {
    const clone = path.join(dir, "copilot-runtime");
    execFileSync("git", ["clone", "--quiet", "--no-hardlinks", REPO, clone], { stdio: "pipe" });
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: "0", CI: "" };
    for (const name of ["OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GOOGLE_API_KEY", "GOOGLE_GENERATIVE_AI_API_KEY", "COPILOT_RUNTIME_MODEL", "DATABASE_URL"]) delete env[name];
    const child = spawn("sh", ["-c", "npm install --no-audit --no-fund && npm start"], { cwd: clone, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let output = "";
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const onData = (chunk: Buffer) => {
          output += chunk.toString();
          const match = /listening on (http:\/\/[^\s"]+)/.exec(output);
          if (match) resolve(match[1].replace("localhost", "127.0.0.1"));
        };
        child.stdout!.on("data", onData);
        child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
        child.once("exit", (code) => reject(new Error(`exited (${code}) before listening:\n${output.slice(-4000)}`)));
      });
      const info = await (await fetch(`${url}/info`)).json();
      expect(Object.keys(info.agents)).toEqual(["default"]);
      const run = await fetch(`${url}/agent/default/run`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ threadId: "fresh", runId: "fresh-1", messages: [{ id: "u1", role: "user", content: "hello" }], tools: [], context: [] }),
      });
      const events = parseSse(await run.text());
      expect(events.at(-1)?.type).toBe("RUN_FINISHED");
      expect(events.filter((e) => e.type === "TEXT_MESSAGE_CONTENT").length).toBeGreaterThan(0);
    } finally {
      try {
        process.kill(-child.pid!, "SIGKILL"); // npm, sh and the server
      } catch {
        // already gone
      }
    }
  }, 420_000);
});
