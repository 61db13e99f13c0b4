/** The Phoenix v2 frame codec and the bearer subprotocol reader, as units. */
import { describe, expect, it } from "vitest";
import { parseFrame, serializeFrame, serializeReply } from "../../src/intelligence/phoenix/codec.js";
import { decodeBearerToken, readSubprotocols } from "../../src/intelligence/phoenix/subprotocol.js";

describe("parseFrame", () => {
  it("reads a v2 frame as phoenix.js sends it", () => {
    expect(parseFrame('["1","2","room:lobby","new_msg",{"body":"hi"}]')).toEqual({
      ok: true,
      frame: ["1", "2", "room:lobby", "new_msg", { body: "hi" }],
    });
    expect(parseFrame('[null,"7","phoenix","heartbeat",{}]')).toEqual({ ok: true, frame: [null, "7", "phoenix", "heartbeat", {}] });
  });

  it("reads numeric refs as strings and keeps any payload", () => {
    expect(parseFrame('[1,2,"t","e",[1,"x"]]')).toEqual({ ok: true, frame: ["1", "2", "t", "e", [1, "x"]] });
    expect(parseFrame('[null,null,"t","e",null]')).toEqual({ ok: true, frame: [null, null, "t", "e", null] });
  });

  it.each([
    ["not JSON", "{oops"],
    ["an object (serializer v1)", '{"topic":"t","event":"e","payload":{},"ref":"1"}'],
    ["too short", '["1","1","t","e"]'],
    ["too long", '["1","1","t","e",{},1]'],
    ["an object join_ref", '[{},"1","t","e",{}]'],
    ["a boolean ref", '["1",true,"t","e",{}]'],
    ["an empty topic", '["1","1","","e",{}]'],
    ["a numeric topic", '["1","1",5,"e",{}]'],
    ["an empty event", '["1","1","t","",{}]'],
    ["an infinite ref", '["1",1e999,"t","e",{}]'],
  ])("rejects %s without throwing", (_what, text) => {
    const parsed = parseFrame(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toEqual(expect.any(String));
  });
});

describe("serializeFrame", () => {
  it("writes a frame JSON.parse reads back", () => {
    const text = serializeFrame("1", null, 'room:"quoted"', "ev", { a: [1, "é"] });
    expect(JSON.parse(text)).toEqual(["1", null, 'room:"quoted"', "ev", { a: [1, "é"] }]);
  });

  it("splices a string payload verbatim, as already-serialized JSON", () => {
    const payload = '{"b":1,  "a":[1.0]}';
    expect(serializeFrame("3", null, "thread:t", "ag_ui_event", payload)).toBe(`["3",null,"thread:t","ag_ui_event",${payload}]`);
  });

  it("sends an empty object for an undefined payload, and throws on an unserializable one", () => {
    expect(serializeFrame(null, null, "t", "e", undefined)).toBe('[null,null,"t","e",{}]');
    expect(() => serializeFrame(null, null, "t", "e", { n: 1n })).toThrow(TypeError);
  });

  it("writes replies as {status, response}", () => {
    expect(serializeReply("1", "2", "t", "error", { reason: "x" })).toBe('["1","2","t","phx_reply",{"status":"error","response":{"reason":"x"}}]');
    expect(serializeReply(null, "9", "phoenix", "ok")).toBe('[null,"9","phoenix","phx_reply",{"status":"ok","response":{}}]');
  });
});

describe("readSubprotocols", () => {
  it("reads phoenix.js's offer: standard base64 without padding", () => {
    const token = "cpk-1_s3cr3t>>>";
    const encoded = btoa(token).replace(/=/g, "");
    expect(readSubprotocols(`phoenix, base64url.bearer.phx.${encoded}`)).toEqual({
      offered: ["phoenix", `base64url.bearer.phx.${encoded}`],
      authToken: token,
    });
  });

  it("decodes the URL-safe alphabet, padding and '/' alike", () => {
    expect(decodeBearerToken("YWI/")).toBe("ab?");
    expect(decodeBearerToken("YX5-fj8-")).toBe("a~~~?>");
    expect(decodeBearerToken("YX5+fj8+")).toBe("a~~~?>");
    expect(decodeBearerToken("YQ==")).toBe("a");
    expect(decodeBearerToken("YQ")).toBe("a");
  });

  it("gives no token when none is offered or it is not base64", () => {
    expect(readSubprotocols(undefined)).toEqual({ offered: [], authToken: null });
    expect(readSubprotocols("phoenix")).toEqual({ offered: ["phoenix"], authToken: null });
    expect(readSubprotocols("phoenix, base64url.bearer.phx.").authToken).toBeNull();
    expect(readSubprotocols("phoenix, base64url.bearer.phx.a*b").authToken).toBeNull();
    expect(readSubprotocols("phoenix, base64url.bearer.phx.YWJjZ").authToken).toBeNull();
  });

  it("reads a header split over several lines", () => {
    expect(readSubprotocols(["phoenix", "base64url.bearer.phx.YQ"])).toEqual({
      offered: ["phoenix", "base64url.bearer.phx.YQ"],
      authToken: "a",
    });
  });
});
