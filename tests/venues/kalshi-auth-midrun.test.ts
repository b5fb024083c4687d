/**
 * A Kalshi login refused mid-run (key revoked, clock skew) after a good start: the collector's warning carries the
 * advice given at start-up and names the host, once for the kind of failure however many attempts fail (each one
 * counted), and the venue comes back when the login is accepted again. And an update_subscription `ok`, which
 * repeats the sid's current seq, is no rejected message.
 */
import { describe, expect, test } from "bun:test";
import { Collector } from "../../src/collector/collector.ts";
import { parseConfig } from "../../src/config.ts";
import { FakeSink } from "../helpers/fake-sink.ts";
import { kalshiLoopback, stepThroughAttempts } from "../helpers/kalshi-loopback.ts";
import { tempDirs } from "../helpers/store.ts";
import { testVenueCollector } from "../helpers/venue-collector.ts";
import { waitFor } from "../helpers/wait.ts";

const { clock, server, openAdapter } = kalshiLoopback(20);
const tmp = tempDirs("kalshi-auth-midrun-");
const ADVICE =
  "Check that KALSHI_API_KEY_ID is the id of the API key whose private key KALSHI_PRIVATE_KEY_PATH names, and that this machine's clock is right.";

/** A collector on the loopback venue watching `targets()`, its log lines kept. */
async function collectorOn(collect: Record<string, number>, targets: () => string[]) {
  const adapter = await openAdapter({}, collect);
  const lines: { type: string; msg: string }[] = [];
  const log = Object.fromEntries(
    ["info", "warn", "error", "debug"].map((type) => [type, (msg: string) => lines.push({ type, msg })]),
  ) as never;
  const settings = parseConfig({ collector: collect, venues: { kalshi: {} } }).venues[0].collect;
  const sink = new FakeSink();
  const vc = testVenueCollector({
    venue: "kalshi",
    settings,
    adapter,
    sink,
    clock,
    dataDir: tmp(),
    logIntervalSecs: 3600,
    targets: () => ({ hot: targets().map((t) => ({ market_id: t, outcome_ids: ["yes", "no"] })), warm: [] }),
    log,
  });
  const collector = new Collector([vc], sink);
  await collector.start();
  return { vc, collector, lines };
}

describe("kalshi: a login refused mid-run", () => {
  test("gives the start-up advice with the host, once per kind of failure, every attempt counted", async () => {
    const collect = { reconnect_base_ms: 1000, reconnect_cap_ms: 4000, reconnect_max_per_minute: 1000 };
    const { vc, collector, lines } = await collectorOn(collect, () => server.openTickers.slice(0, 3));
    await waitFor(() => vc.counters.books >= 6, "the books after a good login");
    expect(server.logins.length).toBe(1);

    server.refuseUpgrades(401);
    server.drop();
    await waitFor(() => vc.counters.disconnects === 1, "the drop");
    const from = server.upgradeAttempts.length;
    await stepThroughAttempts(clock, server, 60_000); // 60 simulated seconds
    const attempts = server.upgradeAttempts.length - from;
    expect(attempts).toBeGreaterThanOrEqual(20);
    await waitFor(() => vc.counters.connectFailures === attempts, "every refused attempt counted");

    const advised = lines.filter((l) => l.msg.includes(ADVICE));
    expect(advised).toHaveLength(1); // not once per attempt
    expect(advised[0].type).toBe("warn");
    expect(advised[0].msg).toContain(`cannot connect to ${new URL(server.wsUrl).host}: `);
    expect(advised[0].msg).toContain("401");
    // the refusal is not logged raw per attempt either
    expect(lines.filter((l) => l.msg.includes("401")).length).toBe(1);

    // The key works again: the venue reconnects with a fresh login, and books flow.
    server.refuseUpgrades(null);
    const books = vc.counters.books;
    for (let i = 0; i < 100 && vc.counters.books === books; i++) {
      await clock.advance(100);
      await Bun.sleep(2);
    }
    await waitFor(() => vc.counters.books > books, "books after the login is accepted again");
    expect(server.logins.length).toBe(2);
    await collector.stop();
  }, 60_000);
});

describe("kalshi: an update_subscription ok repeating the sid's current seq", () => {
  test("is neither counted nor logged as a rejected message by the collector", async () => {
    let targets = server.openTickers.slice(5, 7);
    server.repeatSeqOnOk(true);
    try {
      const { vc, collector, lines } = await collectorOn({ rotation_period_secs: 10 }, () => targets);
      await waitFor(() => vc.counters.books >= 4, "the first books");
      targets = [server.openTickers[5], server.openTickers[8]]; // one in, one out at the next rotation
      const infos = vc.counters.info;
      const replies = () => vc.counters.info + vc.rejectedTotal() - infos; // an ok counted either way
      const applied = () =>
        server.subscribed().has(server.openTickers[8]) && !server.subscribed().has(server.openTickers[6]);
      for (let i = 0; i < 100 && !(applied() && replies() >= 2); i++) {
        await clock.advance(200);
        await Bun.sleep(2);
      }
      await waitFor(() => applied() && replies() >= 2, "the add and the delete, both answered ok");
      await waitFor(() => vc.counters.books >= 6, "the added market's books");
      expect(server.subscribed().has(server.openTickers[6])).toBe(false);
      expect(vc.rejectedTotal()).toBe(0);
      expect(lines.filter((l) => /rejected|seq_not_increasing/.test(l.msg))).toEqual([]);
      await collector.stop();
    } finally {
      server.repeatSeqOnOk(false);
    }
  }, 60_000);
});
