/**
 * A subscribe the venue refuses because one ticker is unknown or closed (the reply does not say which): the feed
 * narrows it down with a bounded number of paced commands, streams the good tickers, marks the bad ones refused
 * and does not send them again until they leave and re-enter the targets (or the back-off passes).
 */
import { describe, expect, test } from "bun:test";
import type { KalshiAdapter } from "../../src/venue/kalshi/adapter.ts";
import { PROBE_PAUSE_MS, REFUSED_RETRY_MS, RefusalSearch } from "../../src/venue/kalshi/refusals.ts";
import type { VenueEvent } from "../../src/venue/types.ts";
import { waitFor } from "../helpers/wait.ts";
import { kalshiLoopback } from "../helpers/kalshi-loopback.ts";

const { clock, server, openAdapter } = kalshiLoopback(200);

/** A connected adapter; the heartbeat is long so hours of simulated time pass without a silence reconnect. */
async function connected(extra: Record<string, unknown> = {}): Promise<{ a: KalshiAdapter; ev: Events }> {
  const a = await openAdapter({ reconnect_base_ms: 1000, ...extra });
  const ev = new Events();
  await a.connect(ev.sink);
  return { a, ev };
}

class Events {
  list: VenueEvent[] = [];
  sink = (e: VenueEvent) => void this.list.push(e);
  count(kind: VenueEvent["kind"], marketId?: string): number {
    return this.list.filter(
      (e) => e.kind === kind && (marketId === undefined || ("marketId" in e && e.marketId === marketId)),
    ).length;
  }
  /** Tickers reported refused, in order. */
  refused(): string[] {
    return this.list.flatMap((e) => (e.kind === "refused" ? [e.marketId] : []));
  }
}

const refs = (ts: string[]) => ts.map((t) => ({ market_id: t, outcome_ids: ["yes", "no"] }));
const tickersOf = (c: { params: Record<string, unknown> }) => (c.params.market_tickers as string[] | undefined) ?? [];
/** Commands asking the venue to stream tickers (subscribe, add_markets) since index `from`, as [kind, tickers]. */
const adds = (from: number) =>
  server.commands
    .slice(from)
    .filter((c) => c.cmd === "subscribe" || c.params.action === "add_markets")
    .map((c) => [c.cmd === "subscribe" ? "subscribe" : "add", tickersOf(c)] as const);

describe("kalshi: a subscribe refused for an unknown ticker", () => {
  test("8 tickers with 1 unknown: the 7 good ones stream books, the bad one is refused (alone) after ≤ 2·log2(8)+1 commands", async () => {
    const { a, ev } = await connected();
    const good = server.openTickers.slice(0, 7);
    const set = [...good.slice(0, 2), "KXNOPE-A", ...good.slice(2)];
    const before = server.commands.length;
    a.subscribe(refs(set));
    await waitFor(
      () => ev.refused().length === 1 && good.every((t) => ev.count("book", t) === 2) && a.feed.refusals.idle(),
      "the search to end",
    );
    expect(ev.refused()).toEqual(["KXNOPE-A"]);
    const sent = adds(before);
    expect(sent.length).toBeLessThanOrEqual(2 * Math.log2(8) + 1);
    // by hand: halves tried first-half first; every half is tried (nothing is inferred), a ticker refused alone is refused
    expect(sent).toEqual([
      ["subscribe", set],
      ["subscribe", set.slice(0, 4)], // refused: holds KXNOPE-A
      ["subscribe", set.slice(0, 2)], // goes through (the sid)
      ["add", set.slice(2, 4)], // refused: [KXNOPE-A, g2]
      ["add", [set[2]]], // refused alone: KXNOPE-A is refused
      ["add", [set[3]]],
      ["add", set.slice(4)],
    ]);
    expect([...server.subscribed()].sort()).toEqual([...good].sort());
    // the good ones stream: a delta on each arrives (two level events each: own bid, other outcome's ask)
    for (const t of good) server.delta(t, "yes", 10, 1, clock.now());
    await waitFor(() => good.every((t) => ev.count("level", t) === 2), "deltas");
    // reported once, as a refused event naming the ticker; no venue_error for the probes
    expect(ev.list.filter((e) => e.kind === "refused" || e.kind === "rejected")).toEqual([
      { kind: "refused", marketId: "KXNOPE-A", reason: "code 16 Market not found", retryAfterMs: REFUSED_RETRY_MS },
    ]);
    expect(ev.count("venue_error")).toBe(0);
  });

  test("later target changes and a reconnect never re-send the refused ticker; leaving and re-entering tries it once", async () => {
    const { a, ev } = await connected();
    const good = server.openTickers.slice(10, 17);
    const set = [...good.slice(0, 5), "KXNOPE-B", ...good.slice(5)];
    a.subscribe(refs(set));
    await waitFor(
      () => ev.refused().length === 1 && good.every((t) => ev.count("book", t) === 2) && a.feed.refusals.idle(),
      "the search to end",
    );
    const before = server.commands.length;
    const extra = server.openTickers[17];
    a.subscribe(refs([extra]));
    a.unsubscribe(refs([good[0]]));
    await waitFor(() => server.subscribed().has(extra) && !server.subscribed().has(good[0]), "churn applied");
    server.drop();
    await waitFor(() => ev.count("connection") === 2, "disconnect seen");
    await clock.advance(1000);
    await waitFor(
      () => ev.count("connection") === 3 && ev.count("book", extra) === 4,
      "resubscribed after the reconnect",
    );
    expect(server.commands.slice(before).map((c) => [c.cmd, c.params.action ?? null, tickersOf(c)])).toEqual([
      ["update_subscription", "add_markets", [extra]],
      ["update_subscription", "delete_markets", [good[0]]],
      ["subscribe", null, [...good.slice(1), extra]],
    ]);
    expect(ev.refused()).toEqual(["KXNOPE-B"]);
    // it leaves (never subscribed: nothing sent) and re-enters: tried afresh, alone, once
    const b2 = server.commands.length;
    a.unsubscribe(refs(["KXNOPE-B"]));
    a.subscribe(refs(["KXNOPE-B"]));
    await waitFor(() => ev.refused().length === 2, "refused again");
    expect(server.commands.slice(b2).map((c) => [c.cmd, c.params.action ?? null, tickersOf(c)])).toEqual([
      ["update_subscription", "add_markets", ["KXNOPE-B"]],
    ]);
  });

  test("two unknown tickers in one set are both found; the 6 good ones stream", async () => {
    const { a, ev } = await connected();
    const good = server.openTickers.slice(20, 26);
    const set = [good[0], "KXNOPE-C", good[1], good[2], good[3], good[4], "KXNOPE-D", good[5]];
    const before = server.commands.length;
    a.subscribe(refs(set));
    await waitFor(
      () => ev.refused().length === 2 && good.every((t) => ev.count("book", t) === 2) && a.feed.refusals.idle(),
      "the search to end",
    );
    expect(ev.refused()).toEqual(["KXNOPE-C", "KXNOPE-D"]);
    const sent = adds(before);
    expect(sent.length).toBeLessThanOrEqual(1 + 2 * 2 * Math.log2(8));
    expect(sent).toEqual([
      ["subscribe", set],
      ["subscribe", set.slice(0, 4)],
      ["subscribe", set.slice(0, 2)],
      ["subscribe", [set[0]]], // goes through (the sid)
      ["add", [set[1]]], // refused alone: KXNOPE-C
      ["add", set.slice(2, 4)],
      ["add", set.slice(4)],
      ["add", set.slice(4, 6)],
      ["add", set.slice(6)],
      ["add", [set[6]]], // refused alone: KXNOPE-D
      ["add", [set[7]]],
    ]);
    expect([...server.subscribed()].sort()).toEqual([...good].sort());
  });

  test("the commands stay bounded and paced under the churn limit (in markets); hours of churn send the refused ticker only on the hourly retry", async () => {
    const LIMIT = 8;
    const { a, ev } = await connected({ subscription_churn_limit_per_minute: LIMIT });
    const good = server.openTickers.slice(30, 93); // 63
    const set = [...good.slice(0, 40), "KXNOPE-E", ...good.slice(40)];
    const before = server.commands.length;
    // Quiet: every command the feed sent has reached the server and no probe awaits its reply, so the server's
    // stamps are the feed's send times (the clock moves only between quiet points).
    const quiet = () =>
      server.commands.length - before === Object.values(a.feed.sent).reduce((x, y) => x + y, 0) &&
      !a.feed.refusals.busy();
    a.subscribe(refs(set));
    await waitFor(() => !a.feed.refusals.idle(), "the refusal of the whole set");
    let steps = 0;
    while (!(a.feed.refusals.idle() && ev.refused().length === 1)) {
      await waitFor(quiet, "quiet");
      await clock.advance(5_000);
      if (++steps > 400) throw new Error("the search did not end");
    }
    const sent = server.commands
      .slice(before)
      .filter((c) => c.cmd === "subscribe" || c.params.action === "add_markets");
    // bound: 64 tickers over the budget of 8 are tried in 8 parts; the one refused is halved 3 times (2 probes each)
    expect(sent.length - 1).toBeLessThanOrEqual(64 / LIMIT + 2 * Math.log2(LIMIT));
    expect(sent.length - 1).toBeLessThanOrEqual(2 * (64 - 1));
    // probes (every command after the refused one): at most LIMIT markets in any 60 s window
    const probes = sent.slice(1);
    for (const p of probes) {
      const inWindow = probes
        .filter((q) => q.at > p.at - 60_000 && q.at <= p.at)
        .reduce((n, q) => n + tickersOf(q).length, 0);
      expect(inWindow).toBeLessThanOrEqual(LIMIT);
    }
    const probeMarkets = probes.reduce((n, q) => n + tickersOf(q).length, 0);
    expect(probes.at(-1)!.at - probes[0].at).toBeGreaterThanOrEqual(60_000 * (Math.ceil(probeMarkets / LIMIT) - 1));
    expect(ev.refused()).toEqual(["KXNOPE-E"]);
    await waitFor(() => server.subscribed().size === 63, "63 subscribed");
    expect([...server.subscribed()].sort()).toEqual([...good].sort());

    // three hours of churn (a market in and one out every 10 minutes)
    const refusedAt = sent.filter((c) => tickersOf(c).includes("KXNOPE-E")).at(-1)!.at; // its last probe
    const b2 = server.commands.length;
    const spare = server.openTickers.slice(100, 120);
    for (let s = 1; s <= 3 * 360 + 6; s++) {
      await clock.advance(10_000);
      await waitFor(quiet, "quiet");
      if (s % 60 === 0) {
        const k = s / 60;
        a.subscribe(refs([spare[k]]));
        a.unsubscribe(refs([k === 1 ? good[0] : spare[k - 1]]));
      }
    }
    const withBad = server.commands.slice(b2).filter((c) => tickersOf(c).includes("KXNOPE-E"));
    expect(withBad.map((c) => [c.params.action, tickersOf(c)])).toEqual([
      ["add_markets", ["KXNOPE-E"]],
      ["add_markets", ["KXNOPE-E"]],
      ["add_markets", ["KXNOPE-E"]],
    ]);
    // one retry an hour, each about REFUSED_RETRY_MS after the previous refusal
    for (let i = 0; i < 3; i++) {
      expect(withBad[i].at - refusedAt).toBeGreaterThanOrEqual((i + 1) * REFUSED_RETRY_MS);
      expect(withBad[i].at - refusedAt).toBeLessThanOrEqual((i + 1) * (REFUSED_RETRY_MS + 10_000));
    }
    expect(ev.refused().length).toBe(4);
    const churn = server.commands.slice(b2).filter((c) => !tickersOf(c).includes("KXNOPE-E"));
    expect(churn.length).toBe(2 * 18);
  });

  test("a closed market is refused, then retried after the back-off and streamed once it reopens", async () => {
    const { a, ev } = await connected();
    const [g0, t, g1, g2] = server.openTickers.slice(130, 134);
    server.setClosed(t, true);
    a.subscribe(refs([g0, t, g1, g2]));
    await waitFor(
      () => ev.refused().length === 1 && a.feed.refusals.idle() && server.subscribed().size >= 3,
      "the search to end",
    );
    expect(ev.refused()).toEqual([t]);
    server.setClosed(t, false);
    const before = server.commands.length;
    await clock.advance(REFUSED_RETRY_MS - 1_000);
    expect(server.commands.length).toBe(before);
    await clock.advance(2_000);
    await waitFor(() => ev.count("book", t) === 2, "the reopened market's books");
    expect(server.commands.slice(before).map((c) => [c.params.action, tickersOf(c)])).toEqual([["add_markets", [t]]]);
  });

  test("a venue fault (not about the tickers) is a venue_error, not a refusal: the whole set is retried after a pause", async () => {
    const { a, ev } = await connected();
    const good = server.openTickers.slice(140, 144);
    server.failNext(1, 17, "Internal error");
    const before = server.commands.length;
    a.subscribe(refs(good));
    await waitFor(() => ev.count("venue_error") === 1, "the error reply");
    expect(ev.list.find((e) => e.kind === "venue_error")).toEqual({
      kind: "venue_error",
      reason: "error_reply_17",
      detail: "subscribe: Internal error",
    });
    await clock.advance(PROBE_PAUSE_MS - 1);
    expect(server.commands.length).toBe(before + 1);
    await clock.advance(1);
    await waitFor(() => good.every((x) => ev.count("book", x) === 2), "books after the retry");
    expect(adds(before)).toEqual([
      ["subscribe", good],
      ["subscribe", good],
    ]);
    expect(ev.refused()).toEqual([]);
  });
});

describe("RefusalSearch against an oracle", () => {
  /** A tiny seeded PRNG (mulberry32) so failures reproduce. */
  function rng(seed: number) {
    return () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
      return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
    };
  }

  test("finds exactly the bad tickers within 2·d·⌈log2 n⌉ probes, never refuses a good one, even as tickers leave", () => {
    const rand = rng(7);
    for (let run = 0; run < 400; run++) {
      const n = 1 + Math.floor(rand() * 120);
      const all = Array.from({ length: n }, (_, i) => `T${i}`);
      const bad = new Set(all.filter(() => rand() < 0.03));
      if (bad.size === 0) bad.add(all[Math.floor(rand() * n)]);
      const targets = new Set(all);
      const refused: string[] = [];
      const s = new RefusalSearch(
        1000,
        (t) => targets.has(t),
        (t) => void refused.push(t),
      );
      const subscribed = new Set<string>();
      const dropping = run % 2 === 1;
      let pending: { id: number; tickers: string[] } | null = null;
      let id = 1;
      s.failed(0, all, "code 16", 0); // the whole set was refused
      let probes = 0;
      for (let guard = 0; guard < 10_000 && !s.idle(); guard++) {
        s.next(0, (tickers) => {
          probes++;
          pending = { id: id++, tickers };
          return pending.id;
        });
        if (dropping && rand() < 0.1) {
          const live = [...targets];
          const t = live[Math.floor(rand() * live.length)];
          targets.delete(t);
          s.drop([t]);
        }
        const p = pending as { id: number; tickers: string[] } | null;
        if (!p) continue;
        pending = null;
        if (p.tickers.some((t) => bad.has(t))) s.failed(p.id, p.tickers, "code 16", 0);
        else {
          s.succeeded(p.id, 0);
          for (const t of p.tickers) subscribed.add(t);
        }
      }
      expect(s.idle()).toBe(true);
      for (const t of refused) expect([run, t, bad.has(t)]).toEqual([run, t, true]);
      for (const t of targets) {
        if (bad.has(t)) expect([run, t, s.isRefused(t)]).toEqual([run, t, true]);
        else expect([run, t, subscribed.has(t)]).toEqual([run, t, true]);
      }
      if (!dropping) {
        expect(refused.sort()).toEqual([...bad].sort());
        expect(probes).toBeLessThanOrEqual(2 * bad.size * Math.ceil(Math.log2(Math.max(2, n))));
      }
    }
  });

  test("probes are paced: at most `limit` markets in any 60 s; a part larger than the budget is halved unsent", () => {
    const s = new RefusalSearch(
      3,
      () => true,
      () => {},
    );
    const all = Array.from({ length: 64 }, (_, i) => `T${i}`);
    s.failed(0, all, "x", 0);
    const sent: { at: number; tickers: string[] }[] = [];
    let now = 0;
    let id = 1;
    for (let guard = 0; guard < 1000 && !s.idle(); guard++) {
      let p: { id: number; tickers: string[] } | null = null;
      s.next(now, (tickers) => {
        p = { id: id++, tickers };
        sent.push({ at: now, tickers });
        return p.id;
      });
      const q = p as { id: number; tickers: string[] } | null;
      if (q) {
        if (q.tickers.includes("T63")) s.failed(q.id, q.tickers, "x", now);
        else s.succeeded(q.id, now);
      } else now = s.wakeAt(now, true);
    }
    expect(s.isRefused("T63")).toBe(true);
    for (const p of sent) {
      expect(p.tickers.length).toBeLessThanOrEqual(3);
      expect(
        sent.filter((q) => q.at > p.at - 60_000 && q.at <= p.at).reduce((n, q) => n + q.tickers.length, 0),
      ).toBeLessThanOrEqual(3);
    }
    // every good ticker went through exactly once (in a probe without T63); T63 was refused alone
    expect(
      sent
        .filter((p) => !p.tickers.includes("T63"))
        .flatMap((p) => p.tickers)
        .sort(),
    ).toEqual(all.slice(0, 63).sort());
    expect(sent.filter((p) => p.tickers.includes("T63")).at(-1)!.tickers).toEqual(["T63"]);
    expect(sent.length).toBeLessThanOrEqual(2 * (64 - 1));
  });
});
