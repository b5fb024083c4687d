/** Regressions the fuzz harness found in the venue mappers/feeds, pinned with hand-written frames. */
import { describe, expect, test } from "bun:test";
import { SimClock } from "../../src/clock.ts";
import { parseConfig } from "../../src/config.ts";
import { KalshiFeed } from "../../src/venue/kalshi/feed.ts";
import { mapFrame, preview } from "../../src/venue/polymarket/mapper.ts";
import type { EventSink, VenueEvent } from "../../src/venue/types.ts";

/** A Kalshi feed with its socket stubbed, fed frames directly (as its socket would). */
function kalshiFeed() {
  const clock = new SimClock(Date.UTC(2026, 0, 1));
  const cfg = parseConfig({ venues: { kalshi: {} } }).selected[0];
  const feed = new KalshiFeed(cfg.options as never, cfg.collect, { clock, env: {} }, {} as never);
  const events: VenueEvent[] = [];
  const inner = feed as unknown as {
    sink: EventSink;
    sub: { sid: number };
    targets: Set<string>;
    socket: unknown;
    onFrame(t: string): void;
  };
  inner.sink = (ev) => void events.push(ev);
  inner.sub.sid = 1;
  inner.targets.add("KX-1");
  inner.socket = { send: () => true, reconnect: () => {} };
  return { frame: (o: unknown) => inner.onFrame(JSON.stringify(o)), events };
}
const delta = (seq: number) => ({
  type: "orderbook_delta",
  sid: 1,
  seq,
  msg: { market_ticker: "KX-1", price_dollars: "0.4000", delta_fp: "5.00", side: "yes", ts_ms: 1 },
});

describe("kalshi feed: a garbage seq", () => {
  test("is rejected and does not become the sid's position (later frames still apply)", () => {
    const f = kalshiFeed();
    f.frame(delta(1));
    f.frame(delta(1e308));
    f.frame(delta(2));
    f.frame(delta(3));
    const levels = f.events.filter((e) => e.kind === "level");
    expect(levels.length).toBe(6); // seq 1, 2, 3: two level events each (own bid, other side's ask)
    expect(f.events.filter((e) => e.kind === "rejected").map((e) => (e as { reason: string }).reason)).toEqual([
      "seq_implausible",
    ]);
    expect(f.events.some((e) => e.kind === "stale")).toBe(false); // not taken for a gap either
  });
  test("a real gap is still a gap", () => {
    const f = kalshiFeed();
    f.frame(delta(1));
    f.frame(delta(5));
    expect(f.events.filter((e) => e.kind === "stale").length).toBe(1);
    expect(f.events.filter((e) => e.kind === "level").length).toBe(4);
  });
});

describe("polymarket mapper: rejection samples", () => {
  test("preview equals the first 200 characters of JSON.stringify for ordinary messages", () => {
    const msgs = [
      { event_type: "x", a: [1, "two", null, { b: true }], s: 'q"uote' },
      [1, 2, 3],
      "text",
      5,
      null,
      { long: "y".repeat(500) },
    ];
    for (const m of msgs) expect(preview(m, 200)).toBe(JSON.stringify(m).slice(0, 200));
  });
  test("a frame nested 200k deep is rejected with a short sample", () => {
    const out = mapFrame("[".repeat(200_000) + "]".repeat(200_000));
    expect(out.length).toBe(1);
    expect(out[0]).toMatchObject({ kind: "rejected", reason: "not_an_object" });
    expect((out[0] as { sample: string }).sample).toBe("[".repeat(200));
  });
});
