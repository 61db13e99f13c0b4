/**
 * `copilot-runtime serve | head -1`: once the reader of stdout is gone, every log line fails to
 * write. The server must keep serving and still exit on SIGTERM (it once looped on the failed
 * writes of its own error lines and never got to exit).
 */
import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { CLI } from "./helpers/cli-process.js";

describe("serve with stdout closed under it", () => {
  it("keeps serving and exits on SIGTERM", async () => {
    const child = spawn(process.execPath, [CLI, "serve", "--memory", "--port", "0", "--host", "127.0.0.1", "--log-format", "json"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      let output = "";
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout!.on("data", (chunk: Buffer) => {
          output += chunk.toString();
          const match = /listening on (http:\/\/[^\s"]+)/.exec(output);
          if (match) resolve(match[1]);
        });
        child.once("exit", () => reject(new Error(`exited before listening:\n${output}`)));
      });
      child.stdout!.destroy(); // the reader goes away, as `| head -1` does
      for (let i = 0; i < 3; i++) {
        const response = await fetch(`${url}/info`); // each request writes an access line that now fails
        expect(response.status).toBe(200);
        await response.text();
      }
      child.kill("SIGTERM");
      const code = await Promise.race([exited, new Promise<string>((resolve) => setTimeout(resolve, 10_000, "still running"))]);
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  });
});
