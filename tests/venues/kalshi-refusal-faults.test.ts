/**
 * The refusal search convicts a ticker only when the venue refused it alone; faults not about tickers (no code,
 * code 10) are retried after a pause; the collector stops watching a refused market (journaled, no rows, never
 * resubscribed by its watchdog); probes and the collector's changes share one churn budget, in markets.
 * (From review 3 of 34d53dd, plus the fixes' own tests.)
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { Collector } from "../../src/collector/collector.ts";
import { readJournal } from "../../src/collector/journal.ts";
import { journalPath } from "../../src/layout.ts";
import { ChurnLimiter, type Targets } from "../../src/collector/subscriptions.ts";
import { parseConfig } from "../../src/config.ts";
import type { KalshiAdapter } from "../../src/venue/kalshi/adapter.ts";
import { PROBE_PAUSE_MS, REFUSED_RETRY_MS, RefusalSearch } from "../../src/venue/kalshi/refusals.ts";
import type { VenueEvent } from "../../src/venue/types.ts";
import { FakeSink } from "../helpers/fake-sink.ts";
import { tempDirs } from "../helpers/store.ts";
import { waitFor } from "../helpers/wait.ts";
import { kalshiLoopback } from "../helpers/kalshi-loopback.ts";
import { testVenueCollector } from "../helpers/venue-collector.ts";

const { clock, server, openAdapter } = kalshiLoopback(120);
const T0 = Date.UTC(2026, 10, 25, 17, 0, 0);
const tmp = tempDirs("kalshi-faults-");

const refs = (ts: string[]) => ts.map((t) => ({ market_id: t, outcome_ids: ["yes", "no"] }));
const tickersOf = (c: { params: Record<string, unknown> }) => (c.params.market_tickers as string[] | undefined) ?? [];

/** Drives a search against a venue that refuses a probe when `refuses(tickers)`; returns the probes sent. */
function drive(s: RefusalSearch, refuses: (t: string[]) => boolean, start = 0): { probes: string[][]; now: number } {
  const probes: string[][] = [];
  let now = start;
  let id = 100;
  for (let guard = 0; guard < 10_000 && !s.idle(); guard++) {
    let p: { id: number; t: string[] } | null = null;
    s.next(now, (t) => {
      probes.push(t);
      p = { id: ++id, t };
      return id;
    });
    const q = p as { id: number; t: string[] } | null;
    if (!q) now = s.wakeAt(now, true);
    else if (refuses(q.t)) s.failed(q.id, q.t, "code 16", now);
    else s.succeeded(q.id, now);
  }
  return { probes, now };
}

describe("refusal search: conviction only by a refusal of the ticker alone", () => {
  test("a refused pair whose halves both go through convicts nobody (each half is tried), and the refusal counts as transient", () => {
    const refused: string[] = [];
    const s = new RefusalSearch(
      20,
      () => true,
      (t) => void refused.push(t),
    );
    s.failed(1, ["A", "B"], "code 11 whatever", 0);
    const { probes } = drive(s, () => false);
    expect(probes).toEqual([["A"], ["B"]]);
    expect(refused).toEqual([]);
    // transient: the next probe waits the doubling pause
    s.add(["C"]);
    const sent: number[] = [];
    s.next(PROBE_PAUSE_MS - 1, () => (sent.push(1), 7));
    expect(sent).toEqual([]);
    expect(s.wakeAt(1, true)).toBe(PROBE_PAUSE_MS);
    s.next(PROBE_PAUSE_MS, () => (sent.push(1), 7));
    expect(sent).toEqual([1]);
  });

  test("bound: a venue refusing everything costs at most 2·(n−1) probes; one bad ticker among 16 at most 2·log2(16)", () => {
    for (const n of [2, 5, 16, 33]) {
      const refused: string[] = [];
      const all = Array.from({ length: n }, (_, i) => `T${i}`);
      const s = new RefusalSearch(
        1000,
        () => true,
        (t) => void refused.push(t),
      );
      s.failed(1, all, "code 16", 0);
      const { probes } = drive(s, () => true);
      expect(probes.length).toBe(2 * (n - 1)); // the whole halving tree below the root, by hand
      expect(refused.sort()).toEqual([...all].sort());
    }
    for (let bad = 0; bad < 16; bad++) {
      const refused: string[] = [];
      const all = Array.from({ length: 16 }, (_, i) => `T${i}`);
      const s = new RefusalSearch(
        1000,
        () => true,
        (t) => void refused.push(t),
      );
      s.failed(1, all, "code 16", 0);
      const { probes } = drive(s, (t) => t.includes(all[bad]));
      expect(probes.length).toBeLessThanOrEqual(8);
      expect(refused).toEqual([all[bad]]);
    }
  });
});

describe("kalshi adapter: faults not about tickers", () => {
  async function connected(): Promise<{ a: KalshiAdapter; ev: VenueEvent[] }> {
    const a = await openAdapter();
    const ev: VenueEvent[] = [];
    await a.connect((e) => void ev.push(e));
    return { a, ev };
  }

  for (const [i, [code, what]] of (
    [
      [10, "Channel error"],
      [null, "something went wrong"],
      [4, "Subscription IDs required"],
      // in the documented not-about-tickers list too (the text here is ours: the code alone decides)
      [8, "code 8 error"],
      [26, "code 26 error"],
    ] as const
  ).entries()) {
    test(`one error reply (code ${code ?? "none"}) on an add_markets of good tickers refuses nothing: retried after the pause`, async () => {
      const { a, ev } = await connected();
      const [g0, g1, g2, g3] = server.openTickers.slice(4 * i, 4 * i + 4);
      a.subscribe(refs([g0]));
      await waitFor(() => server.subscribed().has(g0), "sid");
      server.failNext(1, code, what);
      const before = server.commands.length;
      a.subscribe(refs([g1, g2, g3]));
      await waitFor(() => ev.some((e) => e.kind === "venue_error"), "the error reply");
      await clock.advance(PROBE_PAUSE_MS);
      await waitFor(() => a.feed.refusals.idle() && [g1, g2, g3].every((t) => server.subscribed().has(t)), "retried");
      expect(ev.filter((e) => e.kind === "refused")).toEqual([]);
      expect(server.commands.slice(before).map((c) => tickersOf(c))).toEqual([
        [g1, g2, g3],
        [g1, g2, g3],
      ]);
      expect([...server.subscribed()].sort()).toEqual([g0, g1, g2, g3].sort());
    });
  }
});

function collectorFor(
  a: KalshiAdapter,
  settings: Parameters<typeof parseConfig>[0],
  targets: () => Targets,
  churn?: ChurnLimiter,
) {
  const cfg = parseConfig(settings).venues[0];
  const sink = new FakeSink();
  const dataDir = tmp();
  const vc = testVenueCollector({
    venue: "kalshi",
    settings: cfg.collect,
    adapter: a,
    sink,
    clock,
    dataDir,
    logIntervalSecs: 600,
    targets,
    churn,
  });
  return { vc, sink, dataDir, collector: new Collector([vc], sink) };
}

describe("collector: a refused market", () => {
  test("leaves the subscribed set (journaled 'refused', no rows), is never re-sent by the watchdog, and is tried again on re-entry", async () => {
    const settings = {
      collector: { silence_timeout_secs: 10, subscription_churn_limit_per_minute: 20 },
      venues: { kalshi: { rest_url: server.restUrl, ws_url: server.wsUrl, heartbeat_timeout_secs: 86_400 } },
    };
    const adapter = await openAdapter({}, settings.collector);
    const good = server.openTickers.slice(10, 13);
    const BAD = "KXNOPE-WD";
    let targets = refs([...good, BAD]);
    const { vc, sink, dataDir, collector } = collectorFor(adapter, settings, () => ({ hot: targets, warm: [] }));
    const start = clock.now();
    await collector.start();
    await waitFor(() => !vc.plan.current.has(BAD) && adapter.feed.refusals.idle(), "BAD refused");
    const refusedAt = clock.now();
    const searchEnd = server.commands.length;
    expect(vc.plan.countByTier()).toEqual({ hot: 3, warm: 0 });
    expect(vc.books.market(BAD)).toBeUndefined();
    // 10 simulated minutes, 1 s at a time, letting loopback I/O flow
    for (let s = 0; s < 600; s++) {
      await clock.advance(1000);
      await Bun.sleep(0);
    }
    await server.barrier(); // every command the adapter sent during those minutes has reached the server
    const resent = server.commands.slice(searchEnd).filter((c) => tickersOf(c).includes(BAD));
    expect(resent.map((c) => Math.round((c.at - T0) / 1000))).toEqual([]);
    expect(sink.rows.filter((r) => r.market_id === BAD && r.ts_recv > refusedAt)).toEqual([]);
    // it leaves the targets and re-enters: tried afresh, once
    targets = refs(good);
    vc.retarget(clock.now());
    targets = refs([...good, BAD]);
    vc.retarget(clock.now());
    await waitFor(
      () =>
        !vc.plan.current.has(BAD) &&
        adapter.feed.refusals.idle() &&
        server.commands.slice(searchEnd).some((c) => tickersOf(c).includes(BAD)),
      "refused again",
    );
    expect(
      server.commands
        .slice(searchEnd)
        .filter((c) => tickersOf(c).includes(BAD))
        .map((c) => tickersOf(c)),
    ).toEqual([[BAD]]);
    await collector.stop();
    const j = await readJournal(join(dataDir, journalPath("kalshi", start)));
    const bad = j.filter((e) => e.market_id === BAD && e.outcome_id === "yes").map((e) => [e.action, e.reason]);
    expect(bad).toEqual([
      ["subscribe", "hot"],
      ["unsubscribe", "refused"],
      ["subscribe", "hot"],
      ["unsubscribe", "refused"],
    ]);
    expect(vc.counters.rejected.get("subscribe_refused")).toBe(2);
  }, 30_000);

  test("is taken back into the targets after the adapter's retry period", async () => {
    const settings = {
      collector: { silence_timeout_secs: 86_400, subscription_churn_limit_per_minute: 20 },
      venues: { kalshi: { rest_url: server.restUrl, ws_url: server.wsUrl, heartbeat_timeout_secs: 86_400 } },
    };
    const adapter = await openAdapter({}, settings.collector);
    const [g, t] = server.openTickers.slice(20, 22);
    server.setClosed(t, true);
    const { vc, collector } = collectorFor(adapter, settings, () => ({ hot: refs([g, t]), warm: [] }));
    await collector.start();
    await waitFor(() => !vc.plan.current.has(t) && vc.plan.isRefused(t) && adapter.feed.refusals.idle(), "refused");
    server.setClosed(t, false);
    await clock.advance(REFUSED_RETRY_MS - 1000);
    expect(vc.plan.current.has(t)).toBe(false);
    await clock.advance(1000);
    await waitFor(() => vc.plan.current.has(t) && server.subscribed().has(t), "taken back");
    await collector.stop();
  }, 30_000);
});

describe("one churn budget for the collector's changes and the adapter's probes", () => {
  test("changes + probes never exceed subscription_churn_limit_per_minute markets in any 60 s", async () => {
    const LIMIT = 6;
    const settings = {
      collector: { silence_timeout_secs: 86_400, subscription_churn_limit_per_minute: LIMIT },
      venues: { kalshi: { rest_url: server.restUrl, ws_url: server.wsUrl, heartbeat_timeout_secs: 86_400 } },
    };
    const churn = new ChurnLimiter(LIMIT);
    const adapter = await openAdapter({}, settings.collector, { churn });
    const good = server.openTickers.slice(40, 58); // 18
    const all = [...good.slice(0, 3), "KXNOPE-X1", ...good.slice(3, 11), "KXNOPE-X2", ...good.slice(11)];
    const { vc, collector } = collectorFor(adapter, settings, () => ({ hot: refs(all), warm: [] }), churn);
    const before = server.commands.length;
    await collector.start();
    for (
      let s = 0;
      s < 20 * 60 &&
      !(good.every((t) => server.subscribed().has(t)) && adapter.feed.refusals.idle() && vc.plan.pending() === 0);
      s++
    ) {
      await clock.advance(1000);
      await Bun.sleep(0);
    }
    await server.barrier(); // every command the adapter sent during those minutes has reached the server
    expect([...server.subscribed()].filter((t) => good.includes(t)).sort()).toEqual([...good].sort());
    expect(vc.plan.isRefused("KXNOPE-X1") && vc.plan.isRefused("KXNOPE-X2")).toBe(true);
    const [fill, ...changes] = server.commands
      .slice(before)
      .filter((c) => c.cmd === "subscribe" || (c.params.action !== undefined && c.params.action !== "get_snapshot"));
    // The first fill is one subscribe of every target, not churn; the probes and changes after it are.
    expect(fill.cmd).toBe("subscribe");
    expect(tickersOf(fill).length).toBe(all.length);
    expect(changes.length).toBeGreaterThan(3);
    // Sliding windows less 1 s: the server stamps a command when the test loop delivers it, up to 1 s after it was
    // sent (and counted) on the client's clock.
    for (const c of changes) {
      const inWindow = changes
        .filter((d) => d.at > c.at - 59_000 && d.at <= c.at)
        .reduce((n, d) => n + tickersOf(d).length, 0);
      expect([c.at - T0, inWindow]).toEqual([c.at - T0, Math.min(inWindow, LIMIT)]);
    }
    await collector.stop();
  }, 30_000);
});
