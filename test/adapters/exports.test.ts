/**
 * The published subpaths resolve, through package.json "exports", to built modules with the
 * documented names. Runs against dist/, which `npm test` builds first.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));

const SUBPATHS: Record<string, string[]> = {
  "copilot-runtime/express": ["createCopilotEndpointExpress", "createCopilotEndpointSingleRouteExpress", "createCopilotExpressHandler"],
  "copilot-runtime/node": ["createCopilotNodeListener", "createCopilotNodeHandler", "createNodeFetchHandler", "applyServerLimits"],
  "copilot-runtime/next": ["createCopilotNextHandlers"],
  "copilot-runtime/hono": ["createCopilotEndpoint", "createCopilotEndpointSingleRoute", "createCopilotHonoHandler", "toFetchCorsConfig"],
};

describe("subpath exports", () => {
  it.each(Object.entries(SUBPATHS))("%s exports its functions", (specifier, names) => {
    expect(existsSync(`${root}/dist/adapters`), "dist/ is missing: run `npm run build` (npm test does)").toBe(true);
    // A separate Node process resolves the specifier exactly as an app depending on us would.
    const script = `const m = await import(${JSON.stringify(specifier)}); console.log(JSON.stringify(Object.keys(m).filter((k) => typeof m[k] === "function")));`;
    const exported = JSON.parse(execFileSync(process.execPath, ["--input-type=module", "-e", script], { cwd: root, encoding: "utf8" })) as string[];
    expect(exported).toEqual(expect.arrayContaining(names));
    for (const type of ["d.ts", "js"]) {
      expect(existsSync(`${root}/dist/adapters/${specifier.split("/")[1]}.${type}`)).toBe(true);
    }
  });
});
