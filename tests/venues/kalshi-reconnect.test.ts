/**
 * Kalshi reconnects during an outage: the configured reconnect_cap_ms bounds the delay, and every attempt carries a
 * login signed at that attempt (the loopback server refuses a timestamp outside its 5 s window).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { createPublicKey } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SimClock } from "../../src/clock.ts";
import { parseConfig } from "../../src/config.ts";
import { createAdapter } from "../../src/venue/index.ts";
import type { KalshiAdapter } from "../../src/venue/kalshi/adapter.ts";
import type { VenueEvent } from "../../src/venue/types.ts";
import { waitFor } from "../helpers/wait.ts";
import { startKalshiServer } from "../helpers/kalshi-server.ts";
import { stepThroughAttempts } from "../helpers/kalshi-loopback.ts";

const dir = join(import.meta.dir, "..", "fixtures", "kalshi");
const publicKey = createPublicKey(readFileSync(join(dir, "test-public-key.pem"), "utf8"));
const env = { KALSHI_API_KEY_ID: "test-key-id", KALSHI_PRIVATE_KEY_PATH: join(dir, "test-private-key.pem") };
const T0 = Date.UTC(2026, 10, 25, 17, 0, 0);
const clock = new SimClock(T0);
const server = startKalshiServer({ clock, publicKey, keyId: "test-key-id", markets: 20 });
let adapter: KalshiAdapter | undefined;
afterAll(async () => {
  await adapter?.close();
  server.stop();
});

describe("kalshi reconnects through an outage", () => {
  test("delays climb to 0.5 × reconnect_cap_ms and stay there; each attempt is signed when it is made", async () => {
    const cfg = parseConfig({
      venues: {
        kalshi: {
          rest_url: server.restUrl,
          ws_url: server.wsUrl,
          heartbeat_timeout_secs: 3600,
          reconnect_base_ms: 1000,
          reconnect_cap_ms: 4000,
          reconnect_max_per_minute: 1000,
        },
      },
    }).venues[0];
    adapter = (await createAdapter(cfg, { clock, env, random: () => 0.5 })) as KalshiAdapter;
    const events: VenueEvent[] = [];
    await adapter.connect((ev) => events.push(ev));
    expect(server.logins.length).toBe(1);
    server.refuseUpgrades(503);
    server.drop();
    await waitFor(() => events.some((e) => e.kind === "connection" && e.state === "disconnected"), "drop seen");
    const from = server.upgradeAttempts.length;
    await stepThroughAttempts(clock, server, 40_000); // 40 simulated seconds
    const at = server.upgradeAttempts.slice(from);
    const gaps = at.slice(1).map((t, i) => (t - at[i]) / 1000);
    // 0.5 × 1 s, 2 s, then 0.5 × the 4 s cap forever (uncapped: 4 s, 8 s, 16 s…)
    expect(gaps.slice(0, 2)).toEqual([1, 2]);
    expect(gaps.length).toBeGreaterThanOrEqual(15);
    expect(gaps.slice(2).filter((g) => g !== 2)).toEqual([]);
    // the outage ends: the next attempt's login is fresh although the first one was signed a long time ago
    server.refuseUpgrades(null);
    const stale = server.refusedStale;
    for (let i = 0; i < 30 && server.logins.length < 2; i++) {
      await clock.advance(100);
      await Bun.sleep(2);
    }
    await waitFor(() => server.logins.length === 2, "the login after the outage");
    expect(server.refusedStale).toBe(stale);
    expect(server.logins[1].ts).toBe(server.logins[1].at);
    expect(server.logins[1].at - T0).toBeGreaterThan(40_000);
  });
});
