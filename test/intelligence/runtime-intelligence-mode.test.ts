/**
 * Our runtime in Intelligence mode against CopilotKit 1.75's, differentially: both run against
 * the same kind of recording fake platform (test/helpers/fake-intelligence-platform.ts), and for
 * each scenario the browser-facing answers (status, body) and the REST calls made to the platform
 * (method, route, body, bearer key) must be the same. The full run goes through the runner
 * socket too: 1.75's over long-poll (Node 20 has no global WebSocket), ours over WebSocket.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBody } from "../helpers/inputs.js";
import { USER, type Untyped, both, closePlatforms, loadImpls, restCalls, scrubTimes, setup, withPort } from "./support.js";

beforeAll(loadImpls);
afterAll(closePlatforms);

describe("Intelligence mode, ours vs CopilotKit 1.75 on the same fake platform", () => {
  it("GET /info: intelligence block, thread endpoints, entitlements and licence status agree; the lookup is cached", async () => {
    const result = await both(async (impl) => {
      const s = await setup(impl);
      const first = await s.call("GET", "/info");
      await s.call("GET", "/info");
      return { status: first.status, body: first.body as Untyped, e1Calls: s.platform.routes().filter((r) => r === "GET /api/entitlements/runtime").length, wsUrl: s.platform.wsUrl };
    });
    for (const [name, r] of Object.entries(result)) {
      expect(r.status, name).toBe(200);
      expect(r.body.intelligence, name).toEqual({ wsUrl: `${r.wsUrl}/client` });
      expect(r.e1Calls, name).toBe(1);
    }
    const pick = (body: Untyped) => ({
      mode: body.mode,
      threadEndpoints: body.threadEndpoints,
      inspectorMetadata: body.inspectorMetadata,
      licenseStatus: body.licenseStatus,
      runtimeEntitlements: body.runtimeEntitlements,
      agents: Object.keys(body.agents),
    });
    expect(pick(result.ours.body)).toEqual(pick(result.copilotkit.body));
    expect(result.ours.body.mode).toBe("intelligence");
    expect(result.ours.body.licenseStatus).toBe("valid");
  });

  it.each([
    ["a 404 (misconfigured, no licence)", { status: 404, body: { error: "nope" } }],
    ["a 503 (unavailable, unknown)", { status: 503, body: { error: "down" } }],
    ["a malformed answer", { status: 200, body: { status: "ready", entitlement: { active: true } } }],
    ["an inactive managed entitlement", { status: 200, body: { status: "ready", entitlement: { active: false, source: "managedOrgSubscription", features: {}, limits: {} } } }],
    ["a degraded answer", { status: 200, body: { status: "degraded", error: { code: "x", message: "slow", retryable: true } } }],
    ["the legacy flat shape", { status: 200, body: { active: true, source: "selfHostedDeploymentLicense", features: { threads: true }, limits: {}, organizationId: "o" } }],
  ])("GET /info maps %s as 1.75 does", async (_, answer) => {
    const result = await both(async (impl) => {
      const s = await setup(impl, { prepare: (p) => p.answer("GET /api/entitlements/runtime", () => answer) });
      const info = (await s.call("GET", "/info")).body as Untyped;
      return { licenseStatus: info.licenseStatus, runtimeEntitlements: info.runtimeEntitlements };
    });
    expect(result.ours).toEqual(result.copilotkit);
  });

  it.each([
    ["an id with a space", () => ({ id: "a b", name: "Ada" })],
    ["no name", () => ({ id: "u1" })],
    ["a blank name", () => ({ id: "u1", name: "  " })],
    ["an id over 128 characters", () => ({ id: "x".repeat(129), name: "Ada" })],
    ["a throw", () => {
      throw new Error("boom");
    }],
  ])("identifyUser returning %s is answered alike on run, connect and the thread routes", async (_, identifyUser) => {
    const result = await both(async (impl) => {
      const s = await setup(impl, { identifyUser });
      const out = [];
      out.push(await s.call("POST", "/agent/default/run", runBody("t-user")));
      out.push(await s.call("POST", "/agent/default/connect", runBody("t-user")));
      out.push(await s.call("GET", "/threads?agentId=default"));
      out.push(await s.call("POST", "/threads/subscribe", {}));
      out.push(await s.call("PATCH", "/threads/t-user", { agentId: "default", name: "x" }));
      out.push(await s.call("GET", "/threads/t-user/messages"));
      return { answers: out.map((r) => ({ status: r.status, body: r.body })), rest: restCalls(s.platform) };
    });
    expect(result.ours.answers).toEqual(result.copilotkit.answers);
    expect(result.ours.rest).toEqual([]);
    expect(result.copilotkit.rest).toEqual([]);
  });

  it.each([
    ["the lock is held (409)", "POST /api/threads/:id/lock", { status: 409, body: { error: "locked" } }],
    ["the lock call fails (500)", "POST /api/threads/:id/lock", { status: 500, body: { error: "x" } }],
    ["the lock answer has no joinToken", "POST /api/threads/:id/lock", { status: 200, body: { threadId: "t-run", runId: "r-1" } }],
    ["the thread lookup fails (500)", "GET /api/threads/:id", { status: 500, body: { error: "x" } }],
    ["the thread is forbidden (403)", "GET /api/threads/:id", { status: 403, body: { error: "x" } }],
    ["the thread create conflicts and the re-read 404s", "POST /api/threads", { status: 409, body: { error: "x" } }],
    ["the history lookup fails", "GET /api/threads/:id/messages", { status: 500, body: { error: "x" } }],
  ])("POST /run when %s: same answer, same REST calls (lock released where 1.75 releases it)", async (_, route, answer) => {
    const result = await both(async (impl) => {
      const s = await setup(impl, { prepare: (p) => p.answer(route, () => answer) });
      const response = await s.call("POST", "/agent/default/run", runBody("t-run", { runId: "r-1", messages: [{ id: "m1", role: "user", content: "hi" }] }));
      return { status: response.status, body: response.body, rest: restCalls(s.platform) };
    });
    expect(result.ours).toEqual(result.copilotkit);
  });

  it("POST /run when the runner's channel join is refused: 502 Failed to start runner, lock released", async () => {
    const result = await both(async (impl) => {
      const s = await setup(impl);
      s.platform.joinReply = () => ({ status: "error", response: { reason: "unauthorized" } });
      const response = await s.call("POST", "/agent/default/run", runBody("t-join", { runId: "r-join", messages: [{ id: "m1", role: "user", content: "hi" }] }));
      return { status: response.status, body: response.body, rest: restCalls(s.platform), joins: s.platform.joins.map((j) => ({ topic: j.topic, payload: j.payload })) };
    });
    expect(result.ours).toEqual(result.copilotkit);
    expect(result.ours.status).toBe(502);
    expect(result.ours.rest.at(-1)?.call).toBe("DELETE /api/threads/:id/lock");
  });

  it("POST /run end to end: same credentials and REST calls; the platform stores the same events (ours over WebSocket, 1.75 over long-poll)", async () => {
    const result = await both(async (impl) => {
      const s = await setup(impl);
      const messages = [{ id: "m1", role: "user", content: "hi" }];
      const first = await s.call("POST", "/agent/default/run", runBody("t-e2e", { runId: "r-1", messages }));
      await s.platform.waitFor(() => (s.platform.events.get("r-1") ?? []).some((e) => e.type === "RUN_FINISHED"), "the first run's RUN_FINISHED");
      // Second run: the history has m1 and the reply, so only m2 is new.
      const history = [...messages, { id: "reply-r-1", role: "assistant", content: "Hello there friend" }, { id: "m2", role: "user", content: "again" }];
      const second = await s.call("POST", "/agent/default/run", runBody("t-e2e", { runId: "r-2", messages: history }));
      await s.platform.waitFor(() => (s.platform.events.get("r-2") ?? []).some((e) => e.type === "RUN_FINISHED"), "the second run's RUN_FINISHED");
      const events = (runId: string) =>
        (s.platform.events.get(runId) ?? []).map((e) => {
          const { metadata, ...rest } = e as { metadata: Record<string, unknown> };
          return { ...rest, seq: metadata.cpki_event_seq, hasId: typeof metadata.cpki_event_id === "string" };
        });
      return {
        answers: [first, second].map((r) => ({ status: r.status, body: withPort(r.body, s.platform.wsUrl), cache: r.headers.get("cache-control") })),
        rest: restCalls(s.platform),
        events: { "r-1": events("r-1"), "r-2": events("r-2") },
        joins: s.platform.joins.map((j) => ({ topic: j.topic, payload: j.payload })),
        transports: s.platform.joins.map((j) => j.transport),
        batched: s.platform.pushes.every((p) => p.event === "events" && p.events.length <= 32),
      };
    });
    const { transports: theirTransports, ...theirs } = result.copilotkit;
    const { transports: ourTransports, ...ours } = result.ours;
    // The REST calls the two runtimes made agree except for lock heartbeats (timing-dependent).
    const noHeartbeats = (r: typeof ours) => ({ ...r, rest: r.rest.filter((c) => c.call !== "PATCH /api/threads/:id/lock") });
    expect(noHeartbeats(ours)).toEqual(noHeartbeats(theirs));
    expect(theirTransports).toEqual(["longpoll", "longpoll"]);
    expect(ourTransports).toEqual(["websocket", "websocket"]);
    expect(ours.answers[0]).toEqual({
      status: 200,
      body: { threadId: "t-e2e", runId: "r-1", joinToken: "jt-r-1", realtime: { clientUrl: "WS/client", topic: "thread:t-e2e" } },
      cache: "no-cache",
    });
    const second = ours.events["r-2"] as Untyped[];
    expect(second[0].type).toBe("RUN_STARTED");
    expect(second[0].input.messages.map((m: Untyped) => m.id)).toEqual(["m2"]);
    expect(second.map((e) => e.seq)).toEqual(second.map((_, i) => i + 1));
    expect(ours.batched).toBe(true);
  });

  it.each([
    ["no events (204)", undefined],
    ["credentials", { status: 200, body: { threadId: "t-c", joinToken: "ct-1", runId: "r-9" } }],
    ["a 404", { status: 404, body: { error: "gone" } }],
    ["a 409", { status: 409, body: { error: "busy" } }],
    ["a 503", { status: 503, body: { error: "down" } }],
  ])("POST /connect when the platform answers %s", async (_, answer) => {
    const result = await both(async (impl) => {
      const s = await setup(impl, { prepare: (p) => answer && p.answer("POST /api/threads/:id/connect", () => answer) });
      const response = await s.call("POST", "/agent/default/connect", runBody("t-c"));
      return { status: response.status, body: withPort(response.body, s.platform.wsUrl), rest: restCalls(s.platform) };
    });
    expect(result.ours).toEqual(result.copilotkit);
  });

  it("the single-route envelope: info, run and connect answer as 1.75's", async () => {
    const result = await both(async (impl) => {
      const s = await setup(impl, { singleRoute: true });
      const envelope = (method: string, params?: Record<string, string>, body?: unknown) => s.call("POST", "", { method, ...(params ? { params } : {}), ...(body ? { body } : {}) });
      const info = (await envelope("info")).body as Untyped;
      const run = await envelope("agent/run", { agentId: "default" }, runBody("t-single", { runId: "r-single", messages: [{ id: "m1", role: "user", content: "hi" }] }));
      await s.platform.waitFor(() => (s.platform.events.get("r-single") ?? []).some((e) => e.type === "RUN_FINISHED"), "the run's end");
      const connect = await envelope("agent/connect", { agentId: "default" }, runBody("t-single"));
      return {
        // Not compared: 1.75 also advertises `singleRoute.threadEndpoints` (thread methods in the
        // envelope), which our envelope does not have.
        info: { mode: info.mode, intelligence: withPort(info.intelligence, s.platform.wsUrl), licenseStatus: info.licenseStatus, threadEndpoints: info.threadEndpoints },
        run: { status: run.status, body: withPort(run.body, s.platform.wsUrl) },
        connect: { status: connect.status, body: withPort(connect.body, s.platform.wsUrl) },
        rest: restCalls(s.platform).filter((c) => c.call !== "PATCH /api/threads/:id/lock"),
      };
    });
    expect(result.ours).toEqual(result.copilotkit);
    expect(result.ours.run.status).toBe(200);
  });

  it("POST /connect for an unknown agent is 404 without a platform call", async () => {
    const result = await both(async (impl) => {
      const s = await setup(impl);
      const response = await s.call("POST", "/agent/nope/connect", runBody("t-c"));
      return { status: response.status, error: (response.body as Untyped).error, rest: restCalls(s.platform) };
    });
    expect(result.ours).toEqual(result.copilotkit);
  });

  it("the thread routes proxy to the platform alike (list, subscribe, rename, archive, delete, messages, events, state)", async () => {
    const result = await both(async (impl) => {
      const s = await setup(impl);
      await s.call("POST", "/agent/default/run", runBody("t-list", { runId: "r-l", messages: [{ id: "m1", role: "user", content: "hi" }] }));
      await s.platform.waitFor(() => (s.platform.events.get("r-l") ?? []).some((e) => e.type === "RUN_FINISHED"), "the run's end");
      const answers = [];
      answers.push(await s.call("GET", "/threads?agentId=default&includeArchived=true&limit=5&cursor=c1"));
      answers.push(await s.call("GET", "/threads"));
      answers.push(await s.call("GET", "/threads?agentId=bad%20id"));
      answers.push(await s.call("POST", "/threads/subscribe", {}));
      answers.push(await s.call("PATCH", "/threads/t-list", { agentId: "default", name: "Renamed", archived: false, createdById: "someone-else" }));
      answers.push(await s.call("PATCH", "/threads/t-list", { name: "no agent" }));
      answers.push(await s.call("GET", "/threads/t-list/messages"));
      answers.push(await s.call("GET", "/threads/t-list/events"));
      answers.push(await s.call("GET", "/threads/t-list/state"));
      answers.push(await s.call("POST", "/threads/t-list/archive", { agentId: "default" }));
      answers.push(await s.call("DELETE", "/threads/t-list", { agentId: "default" }));
      answers.push(await s.call("PATCH", "/threads/t-list", { agentId: "default", name: "gone" }));
      return {
        answers: answers.map((r) => ({ status: r.status, body: scrubTimes(r.body) })),
        rest: restCalls(s.platform).filter((c) => !c.call.includes("/lock") && c.call !== "GET /api/threads/:id/messages" ? true : c.call === "GET /api/threads/:id/messages"),
      };
    });
    expect(result.ours.answers).toEqual(result.copilotkit.answers);
    expect(scrubTimes(result.ours.rest.filter((c) => c.call !== "PATCH /api/threads/:id/lock"))).toEqual(scrubTimes(result.copilotkit.rest.filter((c) => c.call !== "PATCH /api/threads/:id/lock")));
    // The rename forwarded only name and archived.
    const rename = result.ours.rest.find((c) => c.call === "PATCH /api/threads/:id");
    expect(rename?.body).toEqual({ userId: USER.id, agentId: "default", name: "Renamed", archived: false });
  });

  it("POST /stop checks the thread on the platform first (403 for another agent's, platform 4xx passed on)", async () => {
    const result = await both(async (impl) => {
      const s = await setup(impl);
      const answers = [];
      answers.push(await s.call("POST", "/agent/default/stop/t-none", {}));
      s.platform.answer("GET /api/threads/:id", () => ({ status: 200, body: { thread: { id: "t-s", name: null, agentId: "other" } } }));
      answers.push(await s.call("POST", "/agent/default/stop/t-s", {}));
      s.platform.answer("GET /api/threads/:id", () => ({ status: 200, body: { thread: { id: "t-s", name: null, agentId: "default" } } }));
      answers.push(await s.call("POST", "/agent/default/stop/t-s", {}));
      answers.push(await s.call("POST", "/agent/default/stop/t-s", { runId: "r-x" }));
      answers.push(await s.call("POST", "/agent/default/stop/t-s", { runid: "typo" }));
      answers.push(await s.call("POST", "/agent/default/stop/t-s", { runId: " " }));
      answers.push(await s.call("POST", "/agent/nope/stop/t-s", {}));
      return { answers: answers.map((r) => ({ status: r.status, body: r.body })), rest: restCalls(s.platform) };
    });
    expect(result.ours).toEqual(result.copilotkit);
  });
});

