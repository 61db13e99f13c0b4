import { createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";

/**
 * What a join token allows: one user of one project to join one topic (`thread:<threadId>` or
 * `user_meta:<joinCode>`) until `exp`. A thread token from a lock (L1) also names the run, which
 * is the only run a run-mode join with it may follow.
 */
export interface JoinTokenClaims {
  /** Token id: keys the per-token run-mode delivery cursor (a rejoin resumes, never repeats). */
  jti: string;
  project: string;
  userId: string;
  topic: string;
  runId?: string;
  /** Expiry, epoch milliseconds. */
  exp: number;
}

export type JoinTokenSubject = Omit<JoinTokenClaims, "jti" | "exp">;

/** Issues and verifies join tokens. */
export interface JoinTokens {
  /** A token for `subject`, valid for the thread or user_meta TTL depending on its topic. */
  issue(subject: JoinTokenSubject): string;
  /** The claims of a well-signed, unexpired token, or null. */
  verify(token: string | null | undefined): JoinTokenClaims | null;
}

export interface JoinTokenOptions {
  /** HMAC key (≥ 32 bytes recommended). Without one, a random per-process key is used. */
  secret?: string | Uint8Array;
  /** Lifetime of `thread:` tokens. Default 30 min (reconnects reuse the token: keep ≥ 15 min). */
  threadTtlMs?: number;
  /** Lifetime of `user_meta:` tokens. Default 12 h (the thread list socket never refreshes its token). */
  userMetaTtlMs?: number;
  now?: () => number;
  /** Told once when no secret was given. */
  warn?: (message: string) => void;
}

const VERSION = "v1";

const b64url = (data: Buffer | string): string => Buffer.from(data).toString("base64url");

/**
 * Signed join tokens: `v1.<base64url(JSON claims)>.<base64url(HMAC-SHA256)>`. Tokens are
 * reusable until they expire, because the Phoenix client reconnects with the same params (a
 * single-use token would turn every network blip into errors and a credential refresh).
 *
 * @example
 * const tokens = createJoinTokens({ secret: process.env.JOIN_TOKEN_SECRET });
 * const token = tokens.issue({ project: "1", userId: "u1", topic: "thread:t1", runId: "r1" });
 * tokens.verify(token)?.topic; // "thread:t1"
 */
export function createJoinTokens(options: JoinTokenOptions = {}): JoinTokens {
  const now = options.now ?? Date.now;
  const threadTtl = options.threadTtlMs ?? 30 * 60_000;
  const userMetaTtl = options.userMetaTtlMs ?? 12 * 60 * 60_000;
  let secret: Buffer;
  if (options.secret === undefined) {
    secret = randomBytes(32);
    options.warn?.(
      "Intelligence platform: no tokenSecret configured; join tokens are signed with a random per-process key, so they do not survive a restart and are not accepted by other instances.",
    );
  } else {
    secret = Buffer.from(options.secret as string | Uint8Array);
    if (secret.length === 0) throw new TypeError("tokenSecret must not be empty");
  }

  const sign = (body: string): Buffer => createHmac("sha256", secret).update(`${VERSION}.${body}`).digest();

  return {
    issue(subject) {
      const ttl = subject.topic.startsWith("user_meta:") ? userMetaTtl : threadTtl;
      const claims: JoinTokenClaims = { jti: randomUUID(), ...subject, exp: now() + ttl };
      const body = b64url(JSON.stringify(claims));
      return `${VERSION}.${body}.${b64url(sign(body))}`;
    },

    verify(token) {
      if (typeof token !== "string" || token.length > 4096) return null;
      const parts = token.split(".");
      if (parts.length !== 3 || parts[0] !== VERSION) return null;
      const given = Buffer.from(parts[2], "base64url");
      const expected = sign(parts[1]);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
      let claims: JoinTokenClaims;
      try {
        claims = JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8")) as JoinTokenClaims;
      } catch {
        return null;
      }
      if (typeof claims !== "object" || claims === null || typeof claims.exp !== "number" || claims.exp <= now()) return null;
      if (typeof claims.project !== "string" || typeof claims.userId !== "string" || typeof claims.topic !== "string") return null;
      return claims;
    },
  };
}
