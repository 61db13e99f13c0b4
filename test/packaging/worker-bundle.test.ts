/**
 * The main entry bundles for a worker: esbuild with platform "neutral" (no Node built-ins, no
 * `node` export condition) succeeds with nothing external, takes in none of the backends, and the
 * bundled handler answers requests.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build, type Metafile } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT, runNode } from "./packed-app.js";

const HEAVY = /node_modules\/(better-sqlite3|pg|pg-[^/]+|ai|@ai-sdk\/[^/]+|@modelcontextprotocol\/sdk)\//;

const dir = mkdtempSync(join(tmpdir(), "copilot-runtime-worker-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A worker-style build: what Cloudflare's and Deno's bundlers resolve, with no Node fallbacks. */
async function bundleForWorker(entry: string, outfile?: string) {
  return build({
    entryPoints: [entry],
    absWorkingDir: ROOT,
    bundle: true,
    platform: "neutral",
    format: "esm",
    mainFields: ["module", "main"],
    conditions: ["worker", "browser", "import", "default"],
    metafile: true,
    write: outfile !== undefined,
    outfile,
    logLevel: "silent",
  });
}

function packagesIn(metafile: Metafile): string[] {
  const names = new Set<string>();
  for (const input of Object.keys(metafile.inputs)) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (match) names.add(match[1]);
  }
  return [...names].sort();
}

describe("bundling copilot-runtime for a worker", () => {
  it("bundles the whole main entry with no Node built-ins and none of the backends", async () => {
    const result = await bundleForWorker(join(ROOT, "dist", "index.js"));
    expect(result.errors).toEqual([]);
    const inputs = Object.keys(result.metafile!.inputs);
    expect(inputs.filter((input) => HEAVY.test(input))).toEqual([]);
    expect(inputs.filter((input) => input.startsWith("node:") || input.includes("(disabled)"))).toEqual([]);
    // Our own modules that came in: none of the durable runners, stores, BuiltInAgent or CLI.
    const ours = inputs.filter((input) => input.startsWith("dist/")).join("\n");
    expect(ours).not.toMatch(/sqlite|postgres|built-in|cli\//);
    const packages = packagesIn(result.metafile!);
    for (const heavy of ["better-sqlite3", "pg", "ai", "@modelcontextprotocol/sdk", "@ai-sdk/openai"]) expect(packages).not.toContain(heavy);
  });

  it("fails, by contrast, for the SQLite entry (the check can fail)", async () => {
    await expect(bundleForWorker(join(ROOT, "dist", "sqlite.js"))).rejects.toThrow(/node:module|node:perf_hooks|node:crypto/);
  });

  it("runs: a bundled worker answers /info and streams a run", async () => {
    const worker = join(dir, "worker.mjs");
    writeFileSync(
      worker,
      `import { CopilotRuntime, DemoAgent, createCopilotRuntimeHandler } from ${JSON.stringify(join(ROOT, "dist", "index.js"))};
const runtime = new CopilotRuntime({ agents: { default: new DemoAgent() } });
export default { fetch: createCopilotRuntimeHandler({ runtime, basePath: "/api/copilotkit" }) };
`,
    );
    const bundled = join(dir, "bundle.mjs");
    const result = await bundleForWorker(worker, bundled);
    expect(result.errors).toEqual([]);
    const script = `
const { default: worker } = await import(${JSON.stringify(bundled)});
const info = await worker.fetch(new Request("http://worker/api/copilotkit/info"));
const body = await info.json();
const run = await worker.fetch(new Request("http://worker/api/copilotkit/agent/default/run", {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ threadId: "t1", runId: "r1", messages: [{ id: "m1", role: "user", content: "hi" }], tools: [], context: [], state: {}, forwardedProps: {} }),
}));
const text = await run.text();
console.log(JSON.stringify({ status: info.status, agents: Object.keys(body.agents), runStatus: run.status, finished: text.includes('"RUN_FINISHED"') }));
`;
    const { status, stdout, stderr } = runNode(dir, ["--input-type=module", "-e", script]);
    expect(status, stderr).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ status: 200, agents: ["default"], runStatus: 200, finished: true });
  });
});
