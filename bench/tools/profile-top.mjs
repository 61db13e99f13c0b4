// Summarises a .cpuprofile: self time per function (top N) and time per file.
// Usage: node tools/profile-top.mjs <file.cpuprofile> [N]
import { readFileSync } from "node:fs";

const [file, topArg] = process.argv.slice(2);
const top = Number(topArg ?? 30);
const profile = JSON.parse(readFileSync(file, "utf8"));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map();
const deltas = profile.timeDeltas;
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i];
  self.set(id, (self.get(id) ?? 0) + (deltas[i] ?? 0));
}
const total = [...self.values()].reduce((a, b) => a + b, 0);
const fn = new Map();
const files = new Map();
for (const [id, us] of self) {
  const { callFrame: cf } = byId.get(id);
  const where = cf.url ? cf.url.replace(/^file:\/\//, "").replace(/.*node_modules\//, "nm:") : "(native)";
  const key = `${cf.functionName || "(anonymous)"}  ${where}:${cf.lineNumber + 1}`;
  fn.set(key, (fn.get(key) ?? 0) + us);
  files.set(where, (files.get(where) ?? 0) + us);
}
const pct = (us) => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
console.log(`total ${(total / 1000).toFixed(0)} ms sampled`);
console.log("\nself time by function:");
for (const [k, us] of [...fn].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(us)}  ${k}`);
console.log("\nself time by file:");
for (const [k, us] of [...files].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`${pct(us)}  ${k}`);

// Callers of the functions named in --callers a,b: the stack above each sample, 4 frames deep.
const callersArg = process.argv.indexOf("--callers");
if (callersArg !== -1) {
  const names = new Set(process.argv[callersArg + 1].split(","));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stacks = new Map();
  for (const [id, us] of self) {
    const node = byId.get(id);
    if (!names.has(node.callFrame.functionName)) continue;
    const frames = [];
    let p = parent.get(id);
    while (p !== undefined && frames.length < Number(process.env.DEPTH ?? 6)) {
      const cf = byId.get(p).callFrame;
      frames.push(`${cf.functionName || "(anon)"}:${cf.url.split("/").pop()}:${cf.lineNumber + 1}`);
      p = parent.get(p);
    }
    const key = `${node.callFrame.functionName} <- ${frames.join(" <- ")}`;
    stacks.set(key, (stacks.get(key) ?? 0) + us);
  }
  console.log("\ncallers:");
  for (const [k, us] of [...stacks].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`${pct(us)}  ${k}`);
}
