import { HTTP_ERRORS } from "../../errors.js";
import type { RequestContext } from "../../http/context.js";
import { intelligenceError } from "./respond.js";

const MAX_ID_LENGTH = 128;
const SAFE_ID = /^[\w.@:=-]+$/;

/** An id the platform accepts as a user or agent id (CopilotKit's `isValidIdentifier`). */
export function isValidIdentifier(value: unknown): value is string {
  return typeof value === "string" && value.length > 0 && value.length <= MAX_ID_LENGTH && SAFE_ID.test(value);
}

/** The caller in Intelligence mode: both an id and a name are required. */
export interface IntelligenceUser {
  id: string;
  name: string;
}

/**
 * The caller, from `identifyUser`, checked as 1.75 checks it; every problem is thrown as the
 * `Response` 1.75 answers with (400 for a bad id or name, 500 when `identifyUser` throws). A
 * `Response` thrown by `identifyUser` itself (a 401 of the app's) is answered as it is.
 */
export async function identifyIntelligenceUser(ctx: RequestContext): Promise<IntelligenceUser> {
  let user;
  try {
    user = await ctx.identify();
  } catch (error) {
    if (error instanceof Response) throw error;
    ctx.log.error({ err: error }, "identifyUser failed");
    throw intelligenceError(HTTP_ERRORS.intelligenceIdentifyFailed);
  }
  if (!isValidIdentifier(user?.id)) throw intelligenceError(HTTP_ERRORS.intelligenceInvalidUserId);
  if (typeof user?.name !== "string" || user.name.trim() === "") throw intelligenceError(HTTP_ERRORS.intelligenceInvalidUserName);
  return { id: user.id, name: user.name };
}
