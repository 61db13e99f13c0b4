/**
 * The README's error tables are generated from the one catalogue (src/errors.ts). This test fails
 * when they differ; `npm run docs:errors` rewrites them.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { renderHttpErrorTable, renderRunErrorTable } from "../../src/errors.js";

const README = fileURLToPath(new URL("../../README.md", import.meta.url));

function section(text: string, name: string): { start: number; end: number } {
  const open = `<!-- ${name}:start (generated from src/errors.ts by npm run docs:errors) -->\n`;
  const close = `\n<!-- ${name}:end -->`;
  const start = text.indexOf(open);
  const end = text.indexOf(close);
  if (start < 0 || end < start) throw new Error(`README.md has no ${name} markers`);
  return { start: start + open.length, end };
}

describe("README error tables", () => {
  it("match the catalogue", () => {
    let text = readFileSync(README, "utf8");
    const tables: Array<[string, string]> = [
      ["http-errors", renderHttpErrorTable()],
      ["run-errors", renderRunErrorTable()],
    ];
    if (process.env.UPDATE_DOCS === "1") {
      for (const [name, table] of tables) {
        const { start, end } = section(text, name);
        text = text.slice(0, start) + table + text.slice(end);
      }
      writeFileSync(README, text);
    }
    for (const [name, table] of tables) {
      const { start, end } = section(text, name);
      expect(text.slice(start, end), `${name}: run npm run docs:errors`).toBe(table);
    }
  });
});
