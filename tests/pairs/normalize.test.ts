/** Title normalisation for pair matching: dates, numbers with scales, stop words, polarity, light stemming. */
import { describe, expect, test } from "bun:test";
import { extractDates, extractNumbers, normalizeTitle, stem } from "../../src/pairs/normalize.ts";

const day = (y: number, m: number, d: number) => Date.UTC(y, m - 1, d);
const REF = Date.UTC(2027, 2, 1, 12); // a close time in March 2027

describe("dates", () => {
  test.each([
    ["2027-03-05", day(2027, 3, 5)],
    ["2027-03-05T17:00:00Z", day(2027, 3, 5)],
    ["3/5/2027", day(2027, 3, 5)],
    ["3/5/27", day(2027, 3, 5)],
    ["March 5, 2027", day(2027, 3, 5)],
    ["mar. 5th 2027", day(2027, 3, 5)],
    ["5 March 2027", day(2027, 3, 5)],
    ["5th of Mar, 2027", day(2027, 3, 5)],
    ["Mar 5", day(2027, 3, 5)], // year from the reference (nearest)
    ["Dec 30", day(2026, 12, 30)], // nearest to March 2027 is the December before
    ["Sept 1st, 2026", day(2026, 9, 1)],
  ])("%s", (text, want) => {
    const r = extractDates(` ${text.toLowerCase()} `, REF);
    expect(r.days).toEqual([want]);
    expect(r.rest.trim()).toBe("");
  });

  test("impossible dates are left as text; no year and no reference is no date", () => {
    expect(extractDates("2027-02-30", REF).days).toEqual([]);
    expect(extractDates("13/40/2027", REF).days).toEqual([]);
    expect(extractDates("mar 5", null).days).toEqual([]);
  });
});

describe("numbers", () => {
  test.each([
    ["$96,500", 96500],
    ["$96.5k", 96500],
    ["96500", 96500],
    ["3.2%", 3.2],
    ["3.2 percent", 3.2],
    ["$220M", 220_000_000],
    ["$1.5 billion", 1_500_000_000],
  ])("%s", (text, want) => {
    expect(extractNumbers(text.toLowerCase()).numbers).toEqual([want]);
  });

  test("a unit letter that starts a word is not a scale: 6 miles is 6", () => {
    expect(extractNumbers("6 miles").numbers).toEqual([6]);
  });
});

describe("normalizeTitle", () => {
  test("the same question in other words gives the same tokens, numbers and day", () => {
    const a = normalizeTitle("Will BTC close above $96,500 on 2027-03-05?", REF);
    const b = normalizeTitle("Bitcoin over $96.5k on March 5, 2027?", REF);
    expect(new Set(a.tokens)).toEqual(new Set(b.tokens));
    expect(a.numbers).toEqual([96500]);
    expect(a.days).toEqual([day(2027, 3, 5)]);
    expect(b.days).toEqual(a.days);
    expect(a.polarity).toBe(1);
    expect(b.polarity).toBe(1);
  });

  test("stop words, case and punctuation go; the comparator becomes one token", () => {
    const n = normalizeTitle("Will the US unemployment rate be ABOVE 6%?!", null);
    expect(n.tokens.sort()).toEqual(["#6", "cmp", "rate", "unemployment", "us"].sort());
  });

  test("polarity: below/lose/under flip it, not flips it, two flips cancel", () => {
    expect(normalizeTitle("Will ETH finish below 3100?").polarity).toBe(-1);
    expect(normalizeTitle("Will Rivera lose the Ohio race?").polarity).toBe(-1);
    expect(normalizeTitle("Will Rivera not win the Ohio race?").polarity).toBe(-1);
    expect(normalizeTitle("Will CPI not be under 3%?").polarity).toBe(1);
    expect(normalizeTitle("Will Rivera win the Ohio race?").polarity).toBe(1);
  });

  test("light stemming meets plural and past forms", () => {
    expect(stem("inches")).toBe(stem("inch"));
    expect(stem("released")).toBe(stem("release"));
    expect(stem("kings")).toBe(stem("king"));
  });
});

test("rates/rate and games/game meet too", () => {
  expect(stem("rates")).toBe(stem("rate"));
  expect(stem("games")).toBe(stem("game"));
});
