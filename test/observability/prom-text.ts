/**
 * A tiny parser for the Prometheus text format (version 0.0.4), strict enough to reject what a
 * scraper would: samples of a family without `# HELP` and `# TYPE` first, malformed lines,
 * histograms whose buckets are not cumulative or lack `+Inf`, `_sum` or `_count`.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  help: string;
  type: string;
  samples: Sample[];
}

export interface Scrape {
  families: Map<string, Family>;
  /** The value of one sample, or undefined; `labels` must match exactly. */
  value(name: string, labels?: Record<string, string>): number | undefined;
  /** The sum over samples of `name` whose labels include `labels`. */
  sum(name: string, labels?: Record<string, string>): number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/y;

export function parsePrometheusText(text: string): Scrape {
  if (!text.endsWith("\n")) throw new Error("exposition must end with a line feed");
  const families = new Map<string, Family>();
  const helps = new Map<string, string>();
  let current: Family | undefined;
  for (const line of text.slice(0, -1).split("\n")) {
    if (line.startsWith("# HELP ")) {
      const name = line.split(" ")[2];
      if (!line.startsWith(`# HELP ${name} `)) throw new Error(`malformed HELP: ${line}`);
      helps.set(name, line.slice(`# HELP ${name} `.length));
      continue;
    }
    if (line.startsWith("# TYPE ")) {
      const [name, type] = line.slice(7).split(" ");
      if (!helps.has(name)) throw new Error(`# TYPE ${name} without # HELP before it`);
      if (!["counter", "gauge", "histogram", "summary", "untyped"].includes(type)) throw new Error(`bad type ${type}`);
      if (families.has(name)) throw new Error(`family ${name} declared twice`);
      current = { name, help: helps.get(name)!, type, samples: [] };
      families.set(name, current);
      continue;
    }
    if (line.startsWith("#") || line === "") throw new Error(`unexpected line: ${JSON.stringify(line)}`);
    const match = SAMPLE.exec(line);
    if (match === null) throw new Error(`malformed sample: ${line}`);
    const [, name, rawLabels, rawValue] = match;
    if (current === undefined) throw new Error(`sample before any # TYPE: ${line}`);
    const base = current.type === "histogram" ? name.replace(/_(bucket|sum|count)$/, "") : name;
    if (base !== current.name) throw new Error(`sample ${name} outside its family (current: ${current.name})`);
    const labels: Record<string, string> = {};
    if (rawLabels !== undefined && rawLabels !== "") {
      LABEL.lastIndex = 0;
      while (LABEL.lastIndex < rawLabels.length) {
        const label = LABEL.exec(rawLabels);
        if (label === null) throw new Error(`malformed labels: ${rawLabels}`);
        labels[label[1]] = label[2].replace(/\\n/g, "\n").replace(/\\"/g, '"').replace(/\\\\/g, "\\");
      }
    }
    const value = rawValue === "+Inf" ? Infinity : rawValue === "-Inf" ? -Infinity : Number(rawValue);
    if (rawValue !== "NaN" && Number.isNaN(value)) throw new Error(`bad value: ${line}`);
    current.samples.push({ name, labels, value });
  }
  for (const family of families.values()) if (family.type === "histogram") checkHistogram(family);
  const matches = (labels: Record<string, string>, wanted: Record<string, string>, exact: boolean) =>
    Object.entries(wanted).every(([k, v]) => labels[k] === v) && (!exact || Object.keys(labels).length === Object.keys(wanted).length);
  const all = () => [...families.values()].flatMap((family) => family.samples);
  return {
    families,
    value: (name, labels = {}) => all().find((s) => s.name === name && matches(s.labels, labels, true))?.value,
    sum: (name, labels = {}) => all().filter((s) => s.name === name && matches(s.labels, labels, false)).reduce((a, s) => a + s.value, 0),
  };
}

/** Buckets cumulative and ascending in `le`, ending with `+Inf` equal to `_count`; `_sum` present. */
function checkHistogram(family: Family): void {
  const series = new Map<string, Sample[]>();
  for (const sample of family.samples) {
    const { le, ...rest } = sample.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    if (sample.name.endsWith("_bucket") && le === undefined) throw new Error(`${sample.name} without le`);
    series.set(key, [...(series.get(key) ?? []), sample]);
  }
  for (const [key, samples] of series) {
    const buckets = samples.filter((s) => s.name === `${family.name}_bucket`);
    const sum = samples.find((s) => s.name === `${family.name}_sum`);
    const count = samples.find((s) => s.name === `${family.name}_count`);
    if (buckets.length === 0 || sum === undefined || count === undefined) throw new Error(`${family.name}${key}: needs buckets, _sum and _count`);
    const last = buckets[buckets.length - 1];
    if (last.labels.le !== "+Inf") throw new Error(`${family.name}${key}: last bucket is not +Inf`);
    if (last.value !== count.value) throw new Error(`${family.name}${key}: +Inf bucket ${last.value} != _count ${count.value}`);
    for (let i = 1; i < buckets.length; i++) {
      const [a, b] = [buckets[i - 1], buckets[i]];
      const [la, lb] = [Number(a.labels.le), b.labels.le === "+Inf" ? Infinity : Number(b.labels.le)];
      if (!(lb > la)) throw new Error(`${family.name}${key}: le not ascending`);
      if (b.value < a.value) throw new Error(`${family.name}${key}: buckets not cumulative`);
    }
  }
}
