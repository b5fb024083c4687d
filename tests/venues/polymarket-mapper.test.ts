/** Polymarket wire frames (tests/fixtures/polymarket) → normalized events, and the hot-path check against valibot. */
import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import { decimal, mapFrame, mapMessage, SIZELESS_ENTRY } from "../../src/venue/polymarket/mapper.ts";
import { WireMessage } from "../../src/venue/polymarket/wire.ts";
import type { VenueEvent } from "../../src/venue/types.ts";

interface Fixture {
  comment: string;
  frame?: unknown;
  raw?: string;
  expect: Record<string, unknown>[];
}

const fixtures: Fixture[] = (
  await Bun.file(new URL("../fixtures/polymarket/market-channel.jsonl", import.meta.url)).text()
)
  .split("\n")
  .filter((l) => l.trim() !== "")
  .map((l) => JSON.parse(l));

const strip = (evs: VenueEvent[]) => evs.map((e) => (e.kind === "rejected" ? { kind: e.kind, reason: e.reason } : e));

describe("polymarket mapper", () => {
  test("fixture file has a comment on every line and covers the required variants", () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(20);
    for (const f of fixtures) expect(f.comment.length).toBeGreaterThan(10);
    const comments = fixtures.map((f) => f.comment).join("\n");
    for (const needle of [
      "multi-asset",
      "array frame",
      "string numbers",
      'size "0"',
      "unknown event type",
      "malformed",
    ])
      expect(comments).toContain(needle);
  });

  for (const f of fixtures) {
    test(f.comment, () => {
      const text = f.raw ?? JSON.stringify(f.frame);
      expect(strip(mapFrame(text))).toEqual(f.expect as never);
    });
  }

  test("malformed fixtures yield only rejected events", () => {
    for (const f of fixtures.filter((x) => x.comment.startsWith("malformed"))) {
      const evs = mapFrame(f.raw ?? JSON.stringify(f.frame));
      expect(evs.length).toBeGreaterThan(0);
      expect(evs.every((e) => e.kind === "rejected")).toBe(true);
    }
  });

  test("the hand-rolled hot-path check agrees with the valibot wire schema on every fixture message", () => {
    let compared = 0;
    for (const f of fixtures) {
      if (f.raw !== undefined) continue;
      for (const msg of Array.isArray(f.frame) ? f.frame : [f.frame]) {
        const out: VenueEvent[] = [];
        mapMessage(msg, out);
        const rej = out.find((e) => e.kind === "rejected");
        const schemaOk = v.safeParse(WireMessage, msg).success;
        if (rej?.kind === "rejected" && (rej.reason === "price_out_of_range" || rej.reason === SIZELESS_ENTRY))
          expect(schemaOk).toBe(true); // semantic check beyond the wire shape; an entry without size is skipped alone
        else if (out.some((e) => e.kind === "info" && e.type === "unknown"))
          expect(schemaOk).toBe(false); // tolerated, counted
        else expect(schemaOk).toBe(rej === undefined);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(20);
  });

  test("decimal accepts exactly the wire decimal form", () => {
    expect(decimal("0.45")).toBe(0.45);
    expect(decimal("12")).toBe(12);
    expect(decimal(0.5)).toBe(0.5);
    expect(decimal(".5")).toBe(0.5); // the leading-dot form the venue's documentation writes
    expect(decimal("1e3")).toBe(1000);
    for (const bad of ["", " 1", "-1", "1e999", "0x10", "Infinity", ".", "1.", null, undefined, {}])
      expect(decimal(bad)).toBeNaN();
  });
});
