/**
 * One Prometheus exposition from several workers' own: the primary of `serve --workers N`
 * answers `/metrics` on the metrics port with every worker's series, each labelled
 * `worker="<n>"`, under one `# HELP`/`# TYPE` header per family (the text format allows a
 * family only once).
 */

/**
 * Merges the workers' texts (`MetricsRegistry.render()` output), adding a `worker` label to
 * every sample.
 *
 * @example
 * ```ts
 * mergeWorkerMetrics([{ worker: "1", text: "# TYPE up gauge\nup 1\n" }, { worker: "2", text: "# TYPE up gauge\nup 1\n" }]);
 * // "# TYPE up gauge\nup{worker=\"1\"} 1\nup{worker=\"2\"} 1\n"
 * ```
 */
export function mergeWorkerMetrics(parts: ReadonlyArray<{ worker: string; text: string }>): string {
  const families = new Map<string, { header: string[]; samples: string[] }>();
  for (const { worker, text } of parts) {
    let family: { header: string[]; samples: string[] } | undefined;
    for (const line of text.split("\n")) {
      if (line === "") continue;
      const comment = /^# (HELP|TYPE) (\S+)/.exec(line);
      if (comment !== null) {
        const name = comment[2];
        family = families.get(name);
        if (family === undefined) families.set(name, (family = { header: [], samples: [] }));
        if (family.header.length < 2 && !family.header.some((seen) => seen.startsWith(`# ${comment[1]} `))) family.header.push(line);
        continue;
      }
      if (line.startsWith("#")) continue;
      if (family === undefined) families.set("", (family = { header: [], samples: [] }));
      family.samples.push(withWorkerLabel(line, worker));
    }
  }
  let out = "";
  for (const { header, samples } of families.values()) {
    for (const line of header) out += `${line}\n`;
    for (const line of samples) out += `${line}\n`;
  }
  return out;
}

function withWorkerLabel(sample: string, worker: string): string {
  const label = `worker="${worker}"`;
  const brace = sample.indexOf("{");
  const space = sample.indexOf(" ");
  if (brace !== -1 && (space === -1 || brace < space)) {
    const close = sample.indexOf("}", brace);
    return close === brace + 1 ? `${sample.slice(0, brace + 1)}${label}${sample.slice(close)}` : `${sample.slice(0, brace + 1)}${label},${sample.slice(brace + 1)}`;
  }
  return `${sample.slice(0, space)}{${label}}${sample.slice(space)}`;
}
