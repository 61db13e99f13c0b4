/**
 * The runtime's Prometheus metrics: a `MetricsRegistry` holds the HTTP series of the handlers
 * it is given to, and renders them with the process-wide run and store series (see
 * run-metrics.ts, store-metrics.ts) in the text format at `GET /metrics`.
 */
import type { AgentRunner } from "../runners/agent-runner.js";
import {
  Counter,
  type CounterChild,
  Gauge,
  type GaugeChild,
  Histogram,
  type HistogramChild,
  PROMETHEUS_CONTENT_TYPE,
  type AnyMetric,
} from "./prometheus.js";
import { RUN_METRIC_FAMILIES } from "./run-metrics.js";
import { recordStoreWrite, STORE_METRIC_FAMILIES } from "./store-metrics.js";

/** Methods kept as a label value as they are; any other reads `other` (a client picks the method). */
const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/**
 * Counts requests, streams and events for Prometheus. Pass one to a handler (`metrics` option)
 * to record into it and serve it at `GET /metrics`, or serve it yourself with
 * {@link createMetricsHandler}. Label values are route *names* (`run`, `thread/messages`,
 * `not_found`), never paths, so ids cannot multiply the series.
 *
 * @example
 * ```ts
 * const metrics = new MetricsRegistry();
 * const handler = createCopilotRuntimeHandler({ runtime, basePath: "/api/copilotkit", metrics });
 * // GET /metrics answers in the Prometheus text format
 * ```
 */
export class MetricsRegistry {
  private readonly requests = new Counter({
    name: "copilot_runtime_http_requests_total",
    help: "HTTP requests answered, by route name, method and status (an event stream counts when its headers go out).",
    labelNames: ["route", "method", "status"],
  });
  private readonly httpErrors = new Counter({
    name: "copilot_runtime_http_errors_total",
    help: "HTTP error answers (status 400 and above), by route name and the stable `error` code of the JSON body.",
    labelNames: ["route", "code"],
  });
  private readonly openStreams = new Gauge({
    name: "copilot_runtime_open_streams",
    help: "Event streams open now, by route name (run, connect, suggest).",
    labelNames: ["route"],
  });
  private readonly eventsStreamed = new Counter({
    name: "copilot_runtime_events_streamed_total",
    help: "AG-UI events written to event streams, by route name.",
    labelNames: ["route"],
  });
  private readonly timeToFirstEvent = new Histogram({
    name: "copilot_runtime_time_to_first_event_seconds",
    help: "Time from routing a request to the first event written to its stream, by route name.",
    labelNames: ["route"],
  });
  private readonly runners = new WeakSet<AgentRunner>();

  /** @internal Counts one answered request; `errorCode` is the JSON error code when there is one. */
  recordRequest(route: string, method: string, status: number, errorCode: string | undefined): void {
    this.requests.labels(route, METHODS.has(method) ? method : "other", String(status)).inc();
    if (status >= 400) this.httpErrors.labels(route, errorCode ?? "other").inc();
  }

  /** @internal A stream opened: the meter counts its events and closes the gauge once. */
  openStream(route: string, startedAt: number): StreamMeter {
    return new StreamMeter(this.openStreams.labels(route), this.eventsStreamed.labels(route), this.timeToFirstEvent.labels(route), startedAt);
  }

  /** @internal Times the writes of a durable runner's store (once per runner). */
  watchRunner(runner: AgentRunner): void {
    if (this.runners.has(runner)) return;
    this.runners.add(runner);
    runner.observeStoreWrites?.(recordStoreWrite);
  }

  /** Every series in the Prometheus text format (version 0.0.4). */
  render(): string {
    const families: AnyMetric[] = [
      this.requests,
      this.httpErrors,
      this.openStreams,
      this.eventsStreamed,
      this.timeToFirstEvent,
      ...RUN_METRIC_FAMILIES,
      ...STORE_METRIC_FAMILIES,
    ];
    return families.map((family) => family.render()).join("");
  }

  /** The media type of {@link render}'s output. */
  readonly contentType = PROMETHEUS_CONTENT_TYPE;
}

/**
 * One open stream's share of the metrics: bound to its children when the stream opens, so an
 * event costs a field increment and a branch (no allocation, no lookup).
 */
export class StreamMeter {
  private first = true;
  private closed = false;

  constructor(
    private readonly open: GaugeChild,
    private readonly events: CounterChild,
    private readonly firstEvent: HistogramChild,
    private readonly startedAt: number,
  ) {
    open.inc();
  }

  onEvent(): void {
    this.events.value++;
    if (this.first) {
      this.first = false;
      this.firstEvent.observe((performance.now() - this.startedAt) / 1000);
    }
  }

  onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.open.dec();
  }
}

let defaultRegistry: MetricsRegistry | undefined;

/** The process-wide registry `metrics: true` records into (created on first use). */
export function defaultMetricsRegistry(): MetricsRegistry {
  defaultRegistry ??= new MetricsRegistry();
  return defaultRegistry;
}

export interface MetricsHandlerOptions {
  /** Default: the process-wide registry `metrics: true` uses. */
  metrics?: MetricsRegistry;
}

/**
 * A fetch handler answering `GET` (and `HEAD`) with the registry in the Prometheus text format,
 * whatever the path: mount it where your scraper looks (`/metrics`), on any port.
 *
 * @example
 * ```ts
 * const metrics = new MetricsRegistry();
 * app.use(createCopilotEndpoint({ runtime, basePath: "/api/copilotkit", metrics: { registry: metrics, endpoint: false } }));
 * Bun.serve({ port: 9464, fetch: createMetricsHandler({ metrics }) });
 * ```
 */
export function createMetricsHandler(options: MetricsHandlerOptions = {}): (request: Request) => Promise<Response> {
  const registry = options.metrics ?? defaultMetricsRegistry();
  return async function metricsHandler(request: Request): Promise<Response> {
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response(JSON.stringify({ error: "Method not allowed", message: `${request.method} is not allowed here; use GET.` }), {
        status: 405,
        headers: { "Content-Type": "application/json", Allow: "GET, HEAD" },
      });
    }
    const body = registry.render();
    return new Response(request.method === "HEAD" ? null : body, {
      status: 200,
      headers: { "Content-Type": registry.contentType, "Cache-Control": "no-store" },
    });
  };
}
