/**
 * OpenTelemetry spans through `@opentelemetry/api`: without an SDK registered by the app, every
 * call here reaches the API's no-op tracer. Spans are made per request, per run and per store
 * write, never per event.
 *
 * - `copilot_runtime.request` (server): the HTTP request, until its answer (or event stream) ends.
 * - `copilot_runtime.run`: one agent run, a child of the request that started it; it ends when the
 *   run ends, which for a durable runner may be after the client left.
 * - `copilot_runtime.agent`: the agent's own execution inside the run; the agent's spans (the AI
 *   SDK's, for BuiltInAgent with `telemetry`) nest under it.
 * - `copilot_runtime.store.<operation>`: a durable runner's store writes, under the run that made them.
 */
import { type Attributes, type Context, type Span, SpanKind, SpanStatusCode, context, trace } from "@opentelemetry/api";
import type { StoreWriteObserver } from "./store-metrics.js";

export const TRACER_NAME = "copilot-runtime";

/** Looked up per span rather than cached, so a provider registered (or replaced) later is used. */
function tracer() {
  return trace.getTracer(TRACER_NAME);
}

/** Starts the request span; the route is named later, once known (never the raw path). */
export function startRequestSpan(method: string, requestId: string): Span {
  return tracer().startSpan("copilot_runtime.request", {
    kind: SpanKind.SERVER,
    attributes: { "http.request.method": method, "copilot_runtime.request_id": requestId },
  });
}

/** Runs `fn` with `span` as the active span, so spans started inside become its children. */
export function withSpan<T>(span: Span, fn: () => T): T {
  return context.with(trace.setSpan(context.active(), span), fn);
}

/** Ends the request span with its route name and status; a 5xx marks it as an error. */
export function endRequestSpan(span: Span, route: string, status: number, errorCode: string | undefined): void {
  span.setAttribute("http.route", route);
  span.setAttribute("http.response.status_code", status);
  if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: errorCode ?? `HTTP ${status}` });
  span.end();
}

/** Records a failure on the active span (if any): the exception, and an error status with `message`. */
export function recordActiveError(error: unknown, message: string): void {
  const span = trace.getActiveSpan();
  if (span === undefined) return;
  recordError(span, error, message);
}

/** The exception as an event, and an error status whose message is `message` (safe to show). */
export function recordError(span: Span, error: unknown, message: string): void {
  if (error instanceof Error) span.recordException(error);
  else span.recordException({ name: "Error", message: String(error) });
  span.setStatus({ code: SpanStatusCode.ERROR, message });
}

/** The spans of one run: the run itself, the agent's execution inside it, and their context. */
export interface RunSpans {
  run: Span;
  agent: Span;
  /** The context to run the agent in: its spans (and store writes) become the agent span's children. */
  context: Context;
}

/** Starts the run span (a child of the active span, the request's) and the agent span inside it. */
export function startRunSpans(agentId: string | undefined, threadId: string, runId: string): RunSpans {
  const t = tracer();
  const attributes: Attributes = { "ag_ui.thread_id": threadId, "ag_ui.run_id": runId };
  if (agentId !== undefined) attributes["copilot_runtime.agent_id"] = agentId;
  const run = t.startSpan("copilot_runtime.run", { attributes });
  const runContext = trace.setSpan(context.active(), run);
  const agent = t.startSpan("copilot_runtime.agent", agentId === undefined ? undefined : { attributes: { "copilot_runtime.agent_id": agentId } }, runContext);
  return { run, agent, context: trace.setSpan(runContext, agent) };
}

/** Ends the run span with its outcome, event count and error code. */
export function endRunSpan(span: Span, outcome: string, events: number, errorCode: string | undefined): void {
  span.setAttribute("copilot_runtime.run.outcome", outcome);
  span.setAttribute("copilot_runtime.run.events", events);
  if (errorCode !== undefined) {
    span.setAttribute("copilot_runtime.run.error_code", errorCode);
    // An error recorded already (the agent threw) keeps its status.
    span.setStatus({ code: SpanStatusCode.ERROR, message: `RUN_ERROR ${errorCode || "unknown"}` });
  }
  span.end();
}

/**
 * The store write observer that makes a span per write, under the active span of the caller
 * (the run). Lease renewals are left out: they run on the runner's heartbeat, for no one run.
 */
export const traceStoreWrite: StoreWriteObserver = (operation, seconds, error) => {
  if (operation === "renew_leases") return;
  const active = context.active();
  if (trace.getSpan(active) === undefined) return; // a write outside any trace: nothing to hang it on
  const endTime = Date.now();
  const span = tracer().startSpan(
    `copilot_runtime.store.${operation}`,
    { kind: SpanKind.CLIENT, startTime: endTime - seconds * 1000, attributes: { "copilot_runtime.store.operation": operation } },
    active,
  );
  if (error !== undefined) recordError(span, error, `store ${operation} failed`);
  span.end(endTime);
};
