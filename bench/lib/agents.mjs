// The benchmark agents, built with @ag-ui/client 1.0 from the repository root and registered
// identically in both runtimes. Their parameters come from `forwardedProps`, which both runtimes
// pass through to the agent, so one registration serves every phase.
//
//   firehose  RUN_STARTED, TEXT_MESSAGE_START, N x TEXT_MESSAGE_CONTENT (16-byte deltas),
//             TEXT_MESSAGE_END, RUN_FINISHED; N = forwardedProps.events (default 50,000).
//             Emitted as fast as possible: `batch` events per macrotask (default 100), so the
//             server can write between batches as it would with a real upstream.
//   short     the same shape with 46 deltas: ~50 events, one macrotask hop between events.
//   idle      RUN_STARTED, then nothing until the run is aborted or the subscriber leaves.
//   slow      the same shape with a delay between events (forwardedProps.delayMs, default 20 ms,
//             forwardedProps.events deltas, default 20): for stop/connect differential scenarios.
//
// BENCH_AGUI=0.0 builds them on the @ag-ui/client 0.0.5x (and rxjs) in bench/node_modules instead,
// the client CopilotKit 1.75 itself bundles and most of its users' agents are built on.
import { benchRequire, benchResolve, repoModule, requireFromRepo } from "./paths.mjs";

/** Which @ag-ui/client the agents are built on: "1.0" (repository root) or "0.0" (bench/node_modules). */
export const AGUI = process.env.BENCH_AGUI === "0.0" ? "0.0" : "1.0";
const { AbstractAgent } = await import(AGUI === "0.0" ? benchResolve("@ag-ui/client") : repoModule("@ag-ui/client"));
const { Observable } = AGUI === "0.0" ? benchRequire("rxjs") : requireFromRepo("rxjs");
/** The version of the @ag-ui/client the agents extend, for reports. */
export const AGUI_VERSION = (AGUI === "0.0" ? benchRequire : requireFromRepo)("@ag-ui/client/package.json").version;

const DELTA = "0123456789abcdef"; // 16 bytes

/**
 * Emits `total` content deltas inside one text message. `pace(i, next)` schedules the next step,
 * so each agent only differs in how it yields between events.
 */
function textRun(input, total, pace) {
  return new Observable((subscriber) => {
    let cancelled = false;
    const messageId = `msg-${input.runId}`;
    const events = function* () {
      yield { type: "RUN_STARTED", threadId: input.threadId, runId: input.runId };
      yield { type: "TEXT_MESSAGE_START", messageId, role: "assistant" };
      for (let i = 0; i < total; i++) yield { type: "TEXT_MESSAGE_CONTENT", messageId, delta: DELTA };
      yield { type: "TEXT_MESSAGE_END", messageId };
      yield { type: "RUN_FINISHED", threadId: input.threadId, runId: input.runId };
    };
    const it = events();
    let index = 0;
    const step = () => {
      if (cancelled) return;
      for (;;) {
        const { value, done } = it.next();
        if (done) {
          subscriber.complete();
          return;
        }
        subscriber.next(value);
        index++;
        if (cancelled) return;
        if (pace(index, step)) return; // pace scheduled the next step
      }
    };
    step();
    return () => {
      cancelled = true;
    };
  });
}

class BenchAgent extends AbstractAgent {
  // AbstractAgent.clone() builds the copy with Object.create (no constructor), so the agents
  // keep no own state: everything comes from the run input.
  abortRun() {
    this.aborted?.();
  }
}

export class FirehoseAgent extends BenchAgent {
  run(input) {
    const total = Number(input.forwardedProps?.events ?? 50_000);
    const batch = Number(input.forwardedProps?.batch ?? 100);
    return textRun(input, total, (i, next) => {
      if (i % batch !== 0) return false;
      setImmediate(next);
      return true;
    });
  }
}

export class ShortAgent extends BenchAgent {
  run(input) {
    return textRun(input, 46, (_i, next) => {
      setImmediate(next);
      return true;
    });
  }
}

export class SlowAgent extends BenchAgent {
  run(input) {
    const total = Number(input.forwardedProps?.events ?? 20);
    const delayMs = Number(input.forwardedProps?.delayMs ?? 20);
    const observable = textRun(input, total, (_i, next) => {
      setTimeout(next, delayMs);
      return true;
    });
    return new Observable((subscriber) => {
      const sub = observable.subscribe({
        next: (event) => subscriber.next(event),
        error: (error) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
      // Aborting ends the run's observable without a terminal event, as an aborted fetch would.
      this.aborted = () => {
        sub.unsubscribe();
        subscriber.complete();
      };
      return () => sub.unsubscribe();
    });
  }
}

export class IdleAgent extends BenchAgent {
  run(input) {
    return new Observable((subscriber) => {
      subscriber.next({ type: "RUN_STARTED", threadId: input.threadId, runId: input.runId });
      // Stays open until aborted (stop) or unsubscribed (runtime teardown).
      this.aborted = () => subscriber.complete();
    });
  }
}

export function createAgents() {
  return {
    firehose: new FirehoseAgent({ agentId: "firehose", description: "N text deltas as fast as possible" }),
    short: new ShortAgent({ agentId: "short", description: "~50 events" }),
    idle: new IdleAgent({ agentId: "idle", description: "starts a run and stays open" }),
    slow: new SlowAgent({ agentId: "slow", description: "text deltas with a delay between them" }),
  };
}
