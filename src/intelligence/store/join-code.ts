import { randomBytes } from "node:crypto";

/**
 * A new join code: it names the user's `user_meta:<joinCode>` topic, so it must not reveal or
 * be guessable from the user id. 96 random bits, hex (safe in a Phoenix topic and a URL).
 * The code alone grants nothing: joining the topic takes a signed token for its owner.
 */
export function newJoinCode(): string {
  return randomBytes(12).toString("hex");
}
