import { describe, expect, it } from "vitest";
import { Observable } from "rxjs";
import * as v048 from "ag-ui-client-0-0-48";
import * as v058 from "ag-ui-client-0-0-58";
import * as v100 from "@ag-ui/client";
import { driveMode } from "../../src/events/drive-mode.js";

const versions = [
  ["0.0.48", v048],
  ["0.0.58", v058],
  ["1.0.0", v100],
] as const;

describe.each(versions)("driveMode with agents built on @ag-ui/client %s", (_version, client) => {
  const { AbstractAgent, HttpAgent } = client as typeof v100;
  class Plain extends AbstractAgent {
    run(): Observable<any> {
      return new Observable();
    }
  }
  class Overriding extends Plain {
    override runAgent(...args: Parameters<Plain["runAgent"]>) {
      return super.runAgent(...args);
    }
  }
  class InheritsOverride extends Overriding {}
  class CustomHttp extends HttpAgent {}
  class OverridingHttp extends HttpAgent {
    override runAgent(...args: Parameters<v100.HttpAgent["runAgent"]>) {
      return super.runAgent(...args);
    }
  }

  it("subscribes to run() when runAgent() is the library's own (AbstractAgent, HttpAgent and their plain subclasses)", () => {
    expect(driveMode(new Plain())).toBe("run");
    expect(driveMode(new Plain().clone() as any)).toBe("run");
    expect(driveMode(new HttpAgent({ url: "http://localhost/x" }) as any)).toBe("run");
    expect(driveMode(new CustomHttp({ url: "http://localhost/x" }) as any)).toBe("run");
  });

  it("calls runAgent() when the class (or one it extends) overrides it, or middleware is attached", () => {
    expect(driveMode(new Overriding())).toBe("runAgent");
    expect(driveMode(new InheritsOverride())).toBe("runAgent");
    expect(driveMode(new OverridingHttp({ url: "http://localhost/x" }) as any)).toBe("runAgent");
    const withMiddleware = new Plain();
    withMiddleware.use((input: any, next: any) => next.run(input));
    expect(driveMode(withMiddleware)).toBe("runAgent");
  });
});

describe("driveMode with duck-typed agents", () => {
  it("calls runAgent() when there is no run(), and run() when there is no runAgent()", () => {
    expect(driveMode({ clone: () => ({}) as any, runAgent: async () => ({}) })).toBe("runAgent");
    expect(driveMode({ clone: () => ({}) as any, run: () => new Observable() })).toBe("run");
  });

  it("prefers a runAgent() of its own over run(), as CopilotKit only ever calls runAgent()", () => {
    expect(driveMode({ clone: () => ({}) as any, run: () => new Observable(), runAgent: async () => ({}) })).toBe("runAgent");
    class Own {
      clone() {
        return new Own();
      }
      run() {
        return new Observable();
      }
      async runAgent() {
        return {};
      }
    }
    expect(driveMode(new Own() as any)).toBe("runAgent");
  });
});
