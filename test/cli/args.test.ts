/**
 * The argument parser on `node:util` parseArgs: POSIX short-option forms, and strictness reported in
 * the order the arguments were given, with exit code 2 from the command.
 */
import { afterEach, describe, expect, it } from "vitest";
import { parseArgs } from "../../src/cli/args.js";
import { killAllClis, runCliToExit } from "./helpers/cli-process.js";

afterEach(() => killAllClis());

describe("parseArgs (node:util)", () => {
  it("reads short options as POSIX does: -p4000, -p 4000, -p=4000 and grouped -hv", () => {
    expect(parseArgs(["serve", "-p4000"], {}).port).toBe(4000);
    expect(parseArgs(["serve", "-p", "4001"], {}).port).toBe(4001);
    expect(parseArgs(["serve", "-p=4002"], {}).port).toBe(4002);
    expect(parseArgs(["serve", "-cmy.config.mjs"], {}).configPath).toBe("my.config.mjs");
    expect(parseArgs(["-hv"], {}).command).toBe("version");
  });

  it("refuses a stray argument, and reports the first mistake in the order given", () => {
    expect(() => parseArgs(["serve", "--memory", "extra"], {})).toThrow("Unexpected argument 'extra'. Try: copilot-runtime --help");
    expect(() => parseArgs(["serve", "--port", "--host", "x"], {})).toThrow("--port needs a value");
    expect(() => parseArgs(["serve", "--bogus", "--port="], {})).toThrow("Unknown option '--bogus'");
    expect(() => parseArgs(["serve", "--port=", "--bogus"], {})).toThrow("--port needs a value: --port=<value> or --port <value>");
    expect(() => parseArgs(["serve", "-x"], {})).toThrow("Unknown option '-x'");
  });

  it("exits 2 with the message, no stack trace", async () => {
    for (const [argv, message] of [
      [["--bogus"], "Unknown option '--bogus'. Try: copilot-runtime --help"],
      [["--memory", "extra"], "Unexpected argument 'extra'. Try: copilot-runtime --help"],
      [["--memory=false"], "--memory takes no value, got '--memory=false'"],
    ] as const) {
      const result = await runCliToExit([...argv]);
      expect(result.code, argv.join(" ")).toBe(2);
      expect(result.stderr.trim()).toBe(message);
    }
  });
});
