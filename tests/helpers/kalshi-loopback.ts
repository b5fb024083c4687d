/** The Kalshi loopback venue with the test key pair on a SimClock, and adapters on it that are closed after each test. */
import { afterAll, afterEach } from "bun:test";
import { createPublicKey } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SimClock } from "../../src/clock.ts";
import { parseConfig } from "../../src/config.ts";
import { createAdapter } from "../../src/venue/index.ts";
import type { KalshiAdapter } from "../../src/venue/kalshi/adapter.ts";
import type { AdapterContext } from "../../src/venue/types.ts";
import { type KalshiServer, startKalshiServer } from "./kalshi-server.ts";
import { waitFor } from "./wait.ts";

const FIXTURES = join(import.meta.dir, "..", "fixtures", "kalshi");
/** The credentials' environment: the test key id and the path of its private key. */
export const KALSHI_TEST_ENV = {
  KALSHI_API_KEY_ID: "test-key-id",
  KALSHI_PRIVATE_KEY_PATH: join(FIXTURES, "test-private-key.pem"),
};
export const KALSHI_TEST_T0 = Date.UTC(2026, 10, 25, 17, 0, 0);

/**
 * A server listing `markets` markets, stopped after the file's tests. `openAdapter(options, collector, ctx)` makes one on it
 * (the heartbeat so long that hours of simulated time pass without a silence reconnect), closed after each test.
 */
export function kalshiLoopback(markets: number) {
  const clock = new SimClock(KALSHI_TEST_T0);
  const publicKey = createPublicKey(readFileSync(join(FIXTURES, "test-public-key.pem"), "utf8"));
  const server = startKalshiServer({ clock, publicKey, keyId: KALSHI_TEST_ENV.KALSHI_API_KEY_ID, markets });
  afterAll(() => server.stop());
  const opened: KalshiAdapter[] = [];
  afterEach(async () => {
    for (const a of opened.splice(0)) await a.close();
  });
  const openAdapter = async (
    options: Record<string, unknown> = {},
    collector: Record<string, unknown> = {},
    ctx: Partial<AdapterContext> = {},
  ): Promise<KalshiAdapter> => {
    const cfg = parseConfig({
      collector,
      venues: {
        kalshi: { rest_url: server.restUrl, ws_url: server.wsUrl, heartbeat_timeout_secs: 86_400, ...options },
      },
    }).venues[0];
    const a = (await createAdapter(cfg, { clock, env: KALSHI_TEST_ENV, random: () => 0.5, ...ctx })) as KalshiAdapter;
    opened.push(a);
    return a;
  };
  return { clock, server, openAdapter };
}

/**
 * Advances `clock` by `ms` in 100 ms steps through a reconnect outage, letting each attempt reach the server before
 * the next step (an attempt in flight arms no timer: the step waits for it to land).
 */
export async function stepThroughAttempts(clock: SimClock, server: KalshiServer, ms: number): Promise<void> {
  for (let i = 0; i < ms / 100; i++) {
    const n = server.upgradeAttempts.length;
    await clock.advance(100);
    if (clock.nextAt() === undefined) await waitFor(() => server.upgradeAttempts.length > n, "the attempt");
    await Bun.sleep(0);
  }
}
