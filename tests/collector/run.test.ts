/** collect's flags: durations, --until, and which clock a run gets (simulated, scaled or real). */
import { describe, expect, test } from "bun:test";
import { chooseClock, parseDuration, parseUntil } from "../../src/collector/run.ts";
import { RealClock, ScaledClock, SimClock } from "../../src/clock.ts";
import { parseConfig } from "../../src/config.ts";
import { UserError } from "../../src/errors.ts";

describe("collect flags", () => {
  test("durations", () => {
    expect(parseDuration("90s")).toBe(90_000);
    expect(parseDuration("10m")).toBe(600_000);
    expect(parseDuration("2h")).toBe(7_200_000);
    expect(parseDuration("1h30m")).toBe(5_400_000);
    expect(parseDuration("1d")).toBe(86_400_000);
    expect(parseDuration("45")).toBe(45_000);
    expect(parseDuration("250ms")).toBe(250);
    for (const bad of ["", "m", "10 minutes", "10x", "-5m", "0s", "1h 30m"])
      expect(() => parseDuration(bad)).toThrow(UserError);
  });

  test("--until: ISO 8601, UTC when no zone", () => {
    expect(parseUntil("2026-01-01T12:00:00Z")).toBe(Date.UTC(2026, 0, 1, 12));
    expect(parseUntil("2026-01-01T12:00:00")).toBe(Date.UTC(2026, 0, 1, 12));
    expect(parseUntil("2026-01-01T14:00:00+02:00")).toBe(Date.UTC(2026, 0, 1, 12));
    expect(parseUntil("2026-01-02")).toBe(Date.UTC(2026, 0, 2));
    expect(() => parseUntil("tomorrow")).toThrow(UserError);
  });

  test("clock: mock speed 0 → simulated, N → scaled, any real venue → real", () => {
    expect(chooseClock(parseConfig({ venues: { mock: { clock_speed: 0 } } }))).toBeInstanceOf(SimClock);
    expect(chooseClock(parseConfig({ venues: { mock: { clock_speed: 50 } } }))).toBeInstanceOf(ScaledClock);
    expect(
      chooseClock(parseConfig({ venues: { mock: { clock_speed: 0 }, kalshi: { enabled: true } } })),
    ).toBeInstanceOf(RealClock);
  });
});
