import { createHash, timingSafeEqual } from "node:crypto";

/** What a valid API key proves: the project every call made with it is scoped to. */
export interface ApiKeyIdentity {
  projectId: string;
}

/** Checks `Authorization: Bearer` keys (REST) and Phoenix auth tokens (runner socket). */
export interface ApiKeyRegistry {
  /** The key's project, or null when the key is missing, malformed or not configured. */
  authenticate(key: string | null | undefined): ApiKeyIdentity | null;
}

// `cpk-<projectId>_<secret>`: CopilotKit's Channels code parses a positive integer project id.
const KEY_PATTERN = /^cpk-([1-9][0-9]{0,17})_(.+)$/;

/**
 * Splits an API key of the form `cpk-<projectId>_<secret>` into its parts, or null when the key
 * has another shape.
 *
 * @example
 * parseApiKey("cpk-42_s3cret"); // { projectId: "42", secret: "s3cret" }
 */
export function parseApiKey(key: string): { projectId: string; secret: string } | null {
  const match = KEY_PATTERN.exec(key);
  if (match === null) return null;
  return { projectId: match[1], secret: match[2] };
}

const digest = (value: string): Buffer => createHash("sha256").update(value, "utf8").digest();

/**
 * A registry over a fixed list of keys. Presented keys are compared by their SHA-256 digests
 * with `timingSafeEqual`, against every configured key, so the time taken tells nothing about
 * how much of a key matched or which one.
 *
 * @throws TypeError when the list is empty or a key is not `cpk-<projectId>_<secret>`.
 * @example
 * const keys = createApiKeyRegistry([process.env.INTELLIGENCE_API_KEY!]);
 * keys.authenticate(bearer)?.projectId;
 */
export function createApiKeyRegistry(keys: readonly string[]): ApiKeyRegistry {
  if (!Array.isArray(keys) || keys.length === 0) throw new TypeError("apiKeys must be a non-empty array of strings");
  const known = keys.map((key, index) => {
    if (typeof key !== "string") throw new TypeError(`apiKeys[${index}] must be a string`);
    const parsed = parseApiKey(key);
    if (parsed === null) throw new TypeError(`apiKeys[${index}] must look like cpk-<projectId>_<secret> (projectId a positive integer)`);
    return { digest: digest(key), projectId: parsed.projectId };
  });

  return {
    authenticate(key) {
      if (typeof key !== "string" || key.length === 0 || key.length > 1024) return null;
      const presented = digest(key);
      let found: ApiKeyIdentity | null = null;
      // No early exit: every configured key is compared whatever matches.
      for (const candidate of known) {
        if (timingSafeEqual(presented, candidate.digest) && found === null) found = { projectId: candidate.projectId };
      }
      return found;
    },
  };
}

/** The key in `Authorization: Bearer <key>`, or null. */
export function bearerToken(headers: Headers): string | null {
  const value = headers.get("authorization");
  if (value === null) return null;
  const match = /^Bearer\s+(.+)$/i.exec(value.trim());
  return match === null ? null : match[1].trim();
}
