/**
 * The few Prometheus primitives the runtime needs (counter, gauge, histogram) and the text
 * exposition format, in `prom-client`'s conventions: `# HELP` and `# TYPE` before every family,
 * label values escaped, histogram buckets cumulative with `le="+Inf"`, then `_sum` and `_count`.
 * No dependency: the hot path must stay a field increment, and prom-client's label handling
 * allocates per call.
 *
 * Each metric hands out *children*, one per label set, created on first use and kept: a caller
 * on a hot path binds its child once and then only touches numbers.
 */

/** The media type of the text exposition format. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** prom-client's default buckets, for latencies in seconds. */
export const DEFAULT_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Label values past this many distinct sets go to one overflow child whose labels all read `other`. */
const DEFAULT_MAX_SERIES = 500;

export interface MetricOptions {
  name: string;
  help: string;
  labelNames?: readonly string[];
  /** Distinct label sets kept before new ones are folded into `other` (guards against unbounded label values). */
  maxSeries?: number;
}

type MetricType = "counter" | "gauge" | "histogram";

abstract class Metric<Child> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  private readonly children = new Map<string, { values: readonly string[]; child: Child }>();
  private readonly maxSeries: number;
  private overflow: Child | undefined;
  abstract readonly type: MetricType;

  constructor(options: MetricOptions) {
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(options.name)) throw new TypeError(`invalid metric name '${options.name}'`);
    this.name = options.name;
    this.help = options.help;
    this.labelNames = options.labelNames ?? [];
    this.maxSeries = options.maxSeries ?? DEFAULT_MAX_SERIES;
  }

  protected abstract createChild(): Child;

  /** The child for these label values (in `labelNames` order); bind it once on hot paths. */
  labels(...values: string[]): Child {
    if (values.length !== this.labelNames.length) {
      throw new TypeError(`${this.name} takes ${this.labelNames.length} label value(s), got ${values.length}`);
    }
    const key = values.length === 1 ? values[0] : values.join("\u0000");
    const found = this.children.get(key);
    if (found !== undefined) return found.child;
    if (this.children.size >= this.maxSeries) {
      if (this.overflow === undefined) {
        this.overflow = this.createChild();
        this.children.set("\u0001overflow", { values: this.labelNames.map(() => "other"), child: this.overflow });
      }
      return this.overflow;
    }
    const child = this.createChild();
    this.children.set(key, { values, child });
    return child;
  }

  /** Every child with its label values, in creation order. */
  protected entries(): Iterable<{ values: readonly string[]; child: Child }> {
    return this.children.values();
  }

  /** The family in the text format: HELP, TYPE, then one line per sample. */
  render(): string {
    let out = `# HELP ${this.name} ${escapeHelp(this.help)}\n# TYPE ${this.name} ${this.type}\n`;
    // An unlabelled metric always has its one sample, 0 before anything happened (as prom-client).
    if (this.labelNames.length === 0) this.labels();
    for (const { values, child } of this.entries()) out += this.renderChild(labelText(this.labelNames, values), child);
    return out;
  }

  protected abstract renderChild(labels: string, child: Child): string;
}

export class CounterChild {
  value = 0;
  inc(by = 1): void {
    this.value += by;
  }
}

/** A value that only goes up. Name it `..._total`. */
export class Counter extends Metric<CounterChild> {
  readonly type = "counter";
  protected createChild(): CounterChild {
    return new CounterChild();
  }
  protected renderChild(labels: string, child: CounterChild): string {
    return `${this.name}${braces(labels)} ${formatNumber(child.value)}\n`;
  }
}

export class GaugeChild {
  value = 0;
  inc(by = 1): void {
    this.value += by;
  }
  dec(by = 1): void {
    this.value -= by;
  }
  set(value: number): void {
    this.value = value;
  }
}

/** A value that goes up and down. */
export class Gauge extends Metric<GaugeChild> {
  readonly type = "gauge";
  protected createChild(): GaugeChild {
    return new GaugeChild();
  }
  protected renderChild(labels: string, child: GaugeChild): string {
    return `${this.name}${braces(labels)} ${formatNumber(child.value)}\n`;
  }
}

export class HistogramChild {
  /** Observations per bucket (not cumulative); the last slot is `+Inf`. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(private readonly upperBounds: readonly number[]) {
    this.counts = new Float64Array(upperBounds.length + 1);
  }
  observe(value: number): void {
    const bounds = this.upperBounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]) i++;
    this.counts[i]++;
    this.sum += value;
    this.count++;
  }
}

export interface HistogramOptions extends MetricOptions {
  /** Upper bounds, ascending; `+Inf` is added. Default {@link DEFAULT_BUCKETS}. Name the metric `..._seconds` for times. */
  buckets?: readonly number[];
}

/** Observations counted into buckets, with their sum and count. */
export class Histogram extends Metric<HistogramChild> {
  readonly type = "histogram";
  readonly buckets: readonly number[];

  constructor(options: HistogramOptions) {
    super(options);
    const buckets = [...(options.buckets ?? DEFAULT_BUCKETS)];
    for (let i = 0; i < buckets.length; i++) {
      if (!Number.isFinite(buckets[i]) || (i > 0 && buckets[i] <= buckets[i - 1])) throw new TypeError(`${options.name}: buckets must be finite and ascending`);
    }
    this.buckets = buckets;
  }

  protected createChild(): HistogramChild {
    return new HistogramChild(this.buckets);
  }

  protected renderChild(labels: string, child: HistogramChild): string {
    const prefix = labels === "" ? "" : `${labels},`;
    let out = "";
    let cumulative = 0;
    for (let i = 0; i < this.buckets.length; i++) {
      cumulative += child.counts[i];
      out += `${this.name}_bucket{${prefix}le="${formatNumber(this.buckets[i])}"} ${cumulative}\n`;
    }
    out += `${this.name}_bucket{${prefix}le="+Inf"} ${child.count}\n`;
    out += `${this.name}_sum${braces(labels)} ${formatNumber(child.sum)}\n`;
    out += `${this.name}_count${braces(labels)} ${child.count}\n`;
    return out;
  }
}

export type AnyMetric = Counter | Gauge | Histogram;

function labelText(names: readonly string[], values: readonly string[]): string {
  let out = "";
  for (let i = 0; i < names.length; i++) out += `${i === 0 ? "" : ","}${names[i]}="${escapeLabelValue(values[i])}"`;
  return out;
}

function braces(labels: string): string {
  return labels === "" ? "" : `{${labels}}`;
}

/** The exposition format escapes backslash, double quote and line feed in label values. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function escapeHelp(help: string): string {
  return help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function formatNumber(value: number): string {
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  if (Number.isNaN(value)) return "NaN";
  return String(value);
}
