// Which objects a heap grew by between two snapshots: self size and count per constructor.
// Usage: node tools/heap-diff.mjs before.heapsnapshot after.heapsnapshot [N] [divisor]
import { readFileSync } from "node:fs";

function summarize(file) {
  const snap = JSON.parse(readFileSync(file, "utf8"));
  const f = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = f.length;
  const iType = f.indexOf("type");
  const iName = f.indexOf("name");
  const iSize = f.indexOf("self_size");
  const out = new Map();
  const nodes = snap.nodes;
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + iType]];
    let name = snap.strings[nodes[i + iName]];
    if (type === "string" || type === "concatenated string" || type === "sliced string") name = "(string)";
    else if (type === "code") name = "(code)";
    else if (type === "closure") name = `closure ${name}`;
    else if (type === "array") name = `(array) ${name}`;
    else if (type === "hidden" || type === "object shape") name = `(${type}) ${name.slice(0, 40)}`;
    else name = `${name.slice(0, 60)}`;
    const e = out.get(name) ?? { size: 0, count: 0 };
    e.size += nodes[i + iSize];
    e.count++;
    out.set(name, e);
  }
  return out;
}
const [a, b, nArg, divArg] = process.argv.slice(2);
const before = summarize(a);
const after = summarize(b);
const div = Number(divArg ?? 1);
const rows = [];
let total = 0;
for (const [name, e] of after) {
  const p = before.get(name) ?? { size: 0, count: 0 };
  const ds = e.size - p.size;
  total += ds;
  rows.push([name, ds, e.count - p.count]);
}
rows.sort((x, y) => y[1] - x[1]);
console.log(`total growth ${(total / div).toFixed(0)} bytes per unit (divisor ${div})`);
for (const [name, ds, dc] of rows.slice(0, Number(nArg ?? 40))) console.log(`${(ds / div).toFixed(0).padStart(8)} B  ${(dc / div).toFixed(2).padStart(6)}x  ${name}`);
