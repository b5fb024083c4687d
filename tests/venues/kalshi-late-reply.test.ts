/**
 * A subscribe probe left unanswered past PROBE_REPLY_TIMEOUT_MS is given up and sent again; when the venue's reply
 * to the first one then comes late, its sid must not stay streaming beside ours: it is unsubscribed at once, and its
 * frames until then are dropped and counted, not applied to the books (no duplicate deltas, no gap, no resync).
 */
import { expect, test } from "bun:test";
import { PROBE_REPLY_TIMEOUT_MS, RefusalSearch } from "../../src/venue/kalshi/refusals.ts";
import type { VenueEvent } from "../../src/venue/types.ts";
import { waitFor } from "../helpers/wait.ts";
import { kalshiLoopback } from "../helpers/kalshi-loopback.ts";

const { clock, server, openAdapter } = kalshiLoopback(20);

test("a late `subscribed` to a probe given up and re-sent: its sid is unsubscribed, its frames dropped and counted, books undisturbed", async () => {
  const a = await openAdapter();
  const ev: VenueEvent[] = [];
  await a.connect((e) => void ev.push(e));
  const g = server.openTickers[3];
  // [g, bad] is refused; the search then probes [g] alone as a subscribe, whose handling the venue delays past the timeout
  server.delayNext(
    (c) => c.cmd === "subscribe" && JSON.stringify(c.params.market_tickers) === JSON.stringify([g]),
    PROBE_REPLY_TIMEOUT_MS + 1,
  );
  a.subscribe([g, "KXNOPE-LATE"].map((t) => ({ market_id: t, outcome_ids: ["yes", "no"] })));
  await waitFor(() => server.commands.filter((c) => c.cmd === "subscribe").length === 2, "the probe of [g]");
  await clock.advance(PROBE_REPLY_TIMEOUT_MS + 1); // the feed gives the probe up and re-sends it; then the first reply comes
  await waitFor(
    () => a.feed.refusals.idle() && ev.filter((e) => e.kind === "book" && e.marketId === g).length >= 2,
    "the book of g",
  );
  await marker(); // frames arrive in order: the late reply was read before it
  if (server.commands.some((c) => c.cmd === "unsubscribe"))
    await waitFor(() => server.subscriptions().size === 1, "the orphan gone");
  expect(ev.filter((e) => e.kind === "book" && e.marketId === g).length).toBe(2); // one snapshot (yes + no), from our sid

  const booksBefore = ev.filter((e) => e.kind === "book").length;
  const from = ev.length;
  server.delta(g, "yes", 10, 5, clock.now());
  server.delta(g, "no", 12, 7, clock.now());
  server.delta(g, "yes", 10, -5, clock.now());
  await marker(); // any duplicate delta from a second sid came before it
  // each delta exactly once: own-side bid + other outcome's ask (mapper), applied once
  const levels = ev.slice(from).filter((e) => e.kind === "level");
  expect(levels.map((e) => (e.kind === "level" ? [e.outcomeId, e.side, e.price, e.size] : null))).toEqual([
    ["yes", "bid", 0.1, 5],
    ["no", "ask", 0.9, 5],
    ["no", "bid", 0.12, 7],
    ["yes", "ask", 0.88, 7],
    ["yes", "bid", 0.1, -5],
    ["no", "ask", 0.9, -5],
  ]);
  expect(ev.filter((e) => e.kind === "stale")).toEqual([]);
  expect(ev.filter((e) => e.kind === "book").length).toBe(booksBefore);
  expect(server.commands.filter((c) => c.params.action === "get_snapshot")).toEqual([]);
  expect(ev.filter((e) => e.kind === "rejected")).toEqual([]);
  const subs = server.subscriptions();
  expect(subs.size).toBe(1); // exactly one subscription for the ticker on the venue
  expect([...subs.values()][0]).toEqual(new Set([g]));
  expect(a.feed.foreignFrames).toBe(1); // the orphan's snapshot, sent before its unsubscribe arrived

  async function marker(): Promise<void> {
    const n = ev.filter((e) => e.kind === "info" && e.type === "marker").length;
    server.sendRaw(JSON.stringify({ type: "marker" }));
    await waitFor(() => ev.filter((e) => e.kind === "info" && e.type === "marker").length > n, "the marker");
  }
});

test("refusal search: a late success is taken while the given-up probe is still queued, not once it was re-sent", () => {
  const s = new RefusalSearch(
    100,
    () => true,
    () => {},
  );
  s.add(["A", "B"]);
  s.next(0, () => 7);
  expect(s.expire(PROBE_REPLY_TIMEOUT_MS)).toBe(7);
  expect(s.isWaiting("A")).toBe(true); // queued again
  expect(s.wasExpired(7)).toBe(true);
  expect(s.adoptLate(7, PROBE_REPLY_TIMEOUT_MS)).toBe(true); // not re-sent yet: taken, the copy withdrawn
  expect(s.idle()).toBe(true);
  expect(s.isWaiting("A")).toBe(false);

  s.add(["C"]);
  s.next(PROBE_REPLY_TIMEOUT_MS, () => 8);
  s.expire(2 * PROBE_REPLY_TIMEOUT_MS);
  const resent: string[][] = [];
  s.next(2 * PROBE_REPLY_TIMEOUT_MS, (t) => (resent.push(t), 9));
  expect(resent).toEqual([["C"]]);
  expect(s.adoptLate(8, 2 * PROBE_REPLY_TIMEOUT_MS)).toBe(false); // replaced: the caller undoes it
  expect(s.busy()).toBe(true); // the re-sent copy still stands
  expect(s.wasExpired(8)).toBe(false);
});
