/**
 * Where a config file went wrong: `file:line:column` for a syntax error or an exception thrown while
 * it loads, with the source line and a caret, so the message points at the mistake.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { isAbsolute } from "node:path";
import { fileURLToPath } from "node:url";

/** A place in a source file; `column` is 1-based and absent when Node gives only the line. */
export interface SourceLocation {
  file: string;
  line: number;
  column?: number;
}

/**
 * The error as a short report: `Name: message`, then `    at file:line:column` and the line with a caret
 * when the place is known, else the error's own stack.
 *
 * @example
 * ```ts
 * describeLoadError(error, "/srv/copilot-runtime.config.mjs");
 * // "SyntaxError: Unexpected token ')'\n    at /srv/copilot-runtime.config.mjs:4:16\n  4 |   agents: { x: ) }\n    |                ^"
 * ```
 */
export function describeLoadError(error: unknown, path: string): string {
  if (!(error instanceof Error)) return String(error);
  const location = locateError(error, path);
  if (!location) return error.stack ?? `${error.name}: ${error.message}`;
  const place = `${location.file}:${location.line}${location.column ? `:${location.column}` : ""}`;
  return [`${error.name}: ${error.message}`, `    at ${place}`, ...codeFrame(location)].join("\n");
}

/** The place an error points at: for a syntax error, where it does not parse; otherwise its first frame in a file. */
export function locateError(error: Error, path: string): SourceLocation | undefined {
  const stack = error.stack ?? "";
  if (error instanceof SyntaxError || error.name === "SyntaxError") {
    // CommonJS puts `file:line` (and the line with a caret) before the message; ESM compile errors
    // carry the place only in a private field, so ask `node --check` for it.
    return fromDecoratedStack(stack) ?? checkSyntax(path);
  }
  return firstFileFrame(stack);
}

/** `/path/x.js:2\nfoo(;\n    ^\n\nSyntaxError: ...` */
function fromDecoratedStack(text: string): SourceLocation | undefined {
  const match = /^(.+):(\d+)\n(.*)\n( *)\^/.exec(text);
  if (!match || !isAbsolute(match[1])) return undefined;
  return { file: match[1], line: Number(match[2]), column: match[4].length + 1 };
}

/** `node --check` on the file: a few tens of milliseconds, and only when a start has already failed. */
function checkSyntax(path: string): SourceLocation | undefined {
  const result = spawnSync(process.execPath, ["--check", path], { encoding: "utf8", timeout: 10_000 });
  if (result.status === 0 || typeof result.stderr !== "string") return undefined;
  return fromDecoratedStack(result.stderr.replace(/\r\n/g, "\n"));
}

/** The first stack frame in a file (a `file:` URL or an absolute path), not Node's own modules. */
function firstFileFrame(stack: string): SourceLocation | undefined {
  for (const line of stack.split("\n").slice(1)) {
    const match = /^\s*at (?:.*?\()?((?:file:\/\/|\/|[A-Za-z]:\\).+?):(\d+):(\d+)\)?\s*$/.exec(line);
    if (!match) continue;
    const file = match[1].startsWith("file://") ? safeFilePath(match[1]) : match[1];
    if (file) return { file, line: Number(match[2]), column: Number(match[3]) };
  }
  return undefined;
}

function safeFilePath(url: string): string | undefined {
  try {
    return fileURLToPath(url);
  } catch {
    return undefined;
  }
}

/** `  12 | the line` and a caret under the column; nothing when the file cannot be read. */
function codeFrame(location: SourceLocation): string[] {
  let text: string;
  try {
    text = readFileSync(location.file, "utf8");
  } catch {
    return [];
  }
  const source = text.split(/\r?\n/)[location.line - 1];
  if (source === undefined) return [];
  const gutter = `  ${location.line} | `;
  const frame = [`${gutter}${source}`];
  if (location.column) frame.push(`${" ".repeat(gutter.length - 2)}| ${" ".repeat(location.column - 1)}^`);
  return frame;
}
