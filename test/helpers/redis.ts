/**
 * The Redis the tests use (`COPILOT_RUNTIME_TEST_REDIS_URL`, else the local default), and whether
 * it answers. Suites skip loudly when it does not, except under CI=true, where they fail instead.
 */
import { Redis } from "ioredis";

export const REDIS_URL = process.env.COPILOT_RUNTIME_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

/** True when a PING at `url` answers PONG within two seconds. */
export async function findRedis(url = REDIS_URL): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, connectTimeout: 2_000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on("error", () => {});
  try {
    await client.connect();
    return (await client.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}
