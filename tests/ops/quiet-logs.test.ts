/** Quiet, honest logs: one line per message, no colour codes in a pipe, one watchdog line per venue per status line. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Collector, QuietTally } from "../../src/collector/collector.ts";
import { SimClock } from "../../src/clock.ts";
import { COLLECT_DEFAULTS } from "../../src/config.ts";
import { formatLine, wantsColor } from "../../src/log.ts";
import { bookEvent, FakeAdapter, refs } from "../helpers/fake-adapter.ts";
import { FakeSink } from "../helpers/fake-sink.ts";
import { runCli } from "../helpers/run-cli.ts";
import { testVenueCollector } from "../helpers/venue-collector.ts";

const ESC = "\x1b";
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
/**
 * A user's terminal settings with both streams piped: colour must come from neither TERM nor a test variable.
 * CI and TEST unset too: citty drops its help colours under either, whatever FORCE_COLOR says.
 */
const PIPED = {
  NO_COLOR: undefined,
  FORCE_COLOR: undefined,
  NODE_ENV: undefined,
  CI: undefined,
  TEST: undefined,
  TERM: "xterm-256color",
};

describe("colour decision", () => {
  test("a terminal gets colour, a pipe none; NO_COLOR (non-empty) wins, FORCE_COLOR forces", () => {
    const tty = { isTTY: true };
    const pipe = { isTTY: false };
    expect(wantsColor(tty, { TERM: "xterm" })).toBe(true);
    expect(wantsColor(pipe, { TERM: "xterm" })).toBe(false);
    expect(wantsColor(tty, { TERM: "dumb" })).toBe(false);
    expect(wantsColor(tty, { TERM: "xterm", NO_COLOR: "1" })).toBe(false);
    expect(wantsColor(tty, { TERM: "xterm", NO_COLOR: "yes" })).toBe(false);
    expect(wantsColor(tty, { TERM: "xterm", NO_COLOR: "" })).toBe(true);
    expect(wantsColor(pipe, { FORCE_COLOR: "1" })).toBe(true);
    expect(wantsColor(pipe, { FORCE_COLOR: "0" })).toBe(false);
    expect(wantsColor(pipe, { FORCE_COLOR: "1", NO_COLOR: "1" })).toBe(false);
  });

  test("a log line: [tag] badge message, coloured only when asked, blank lines of a message dropped", () => {
    expect(formatLine({ type: "info", tag: "mock", args: ["hello"] }, false)).toBe("[mock] ℹ hello");
    expect(formatLine({ type: "warn", tag: "mock", args: ["careful", 3] }, false)).toBe("[mock] WARN careful 3");
    expect(formatLine({ type: "error", tag: "", args: ["a\n\nb\n"] }, false)).toBe("ERROR a\nb");
    expect(formatLine({ type: "log", tag: "x", args: ["plain"] }, false)).toBe("[x] plain");
    expect(formatLine({ type: "warn", tag: "mock", args: ["careful"] }, true)).toBe(
      "\x1b[90m[mock]\x1b[39m \x1b[33mWARN\x1b[39m careful",
    );
  });
});

describe("watchdog line", () => {
  test("the tally: count, silence range, the first ids, then a fresh start", () => {
    const t = new QuietTally(3);
    expect(t.take()).toBeUndefined();
    for (const [id, s] of [
      ["a", 120],
      ["b", 240],
      ["a", 130],
      ["c", 125],
      ["d", 121],
    ] as const)
      t.add(id, s);
    expect(t.take()).toBe(
      "watchdog: 5 resubscribes queued for markets silent 120-240 s with the connection up (a, b, c, … 2 more)",
    );
    expect(t.take()).toBeUndefined();
    t.add("z", 60);
    expect(t.take()).toBe("watchdog: 1 resubscribe queued for markets silent 60 s with the connection up (z)");
  });

  test("a collector with many silent markets logs at most one watchdog line per status line, counts summed", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "quiet-logs-"));
    dirs.push(dataDir);
    const clock = new SimClock(Date.UTC(2026, 0, 1));
    const adapter = new FakeAdapter(clock);
    const markets = refs(30);
    const lines: { type: string; msg: string }[] = [];
    const log = {
      info: (m: string) => lines.push({ type: "info", msg: m }),
      warn: (m: string) => lines.push({ type: "warn", msg: m }),
      error: (m: string) => lines.push({ type: "error", msg: m }),
      debug() {},
    } as never;
    const vc = testVenueCollector({
      settings: { ...COLLECT_DEFAULTS, silence_timeout_secs: 20, stale_after_secs: 86_400 },
      adapter,
      clock,
      dataDir,
      logIntervalSecs: 60,
      targets: () => ({ hot: markets, warm: [] }),
      log,
    });
    const collector = new Collector([vc], new FakeSink());
    await collector.start();
    for (const m of markets) {
      adapter.emit(bookEvent(m.market_id, "yes", [[0.4, 1]], [[0.6, 1]]));
      adapter.emit(bookEvent(m.market_id, "no", [[0.4, 1]], [[0.6, 1]]));
    }
    await clock.advance(600_000); // every market silent again and again
    await collector.stop();

    const watchdog = lines.filter((l) => l.msg.startsWith("watchdog:"));
    expect(vc.counters.watchdog).toBeGreaterThan(30); // one line per market would be this many
    // Never two watchdog lines without a status line between them.
    let since = 0;
    for (const l of lines) {
      if (l.msg.startsWith("connected ")) since = 0;
      else if (l.msg.startsWith("watchdog:")) expect(++since).toBe(1);
    }
    expect(watchdog.length).toBeLessThanOrEqual(11); // 10 status lines in 600 s, and the stop's
    expect(watchdog.every((l) => l.type === "warn")).toBe(true);
    const counted = watchdog.map((l) => Number(/^watchdog: (\d+) /.exec(l.msg)![1]));
    expect(counted.reduce((a, b) => a + b, 0)).toBe(vc.counters.watchdog);
    for (const l of watchdog) expect(l.msg.split(", ").length).toBeLessThanOrEqual(6); // 5 ids and "… N more"
  });
});

describe("what a new user sees in a pipe", () => {
  test("the demo: no colour codes, no blank lines, at most 60 lines, one watchdog line per status line", async () => {
    const dir = await mkdtemp(join(tmpdir(), "quiet-demo-"));
    dirs.push(dir);
    const r = await runCli(["demo", "--data-dir", dir], { env: PIPED });
    expect(r.code).toBe(0);
    const all = `${r.stderr}${r.stdout}`;
    expect(all).not.toContain(ESC);
    const lines = all.replace(/\n$/, "").split("\n");
    const stderr = r.stderr.replace(/\n$/, "").split("\n");
    expect(lines.filter((l) => l.trim() === "")).toEqual([]);
    expect(r.stdout.endsWith("\n") && r.stderr.endsWith("\n")).toBe(true);
    expect(stderr.length + r.stdout.replace(/\n$/, "").split("\n").length).toBeLessThanOrEqual(60);
    let since = 0;
    for (const l of stderr) {
      if (l.startsWith("[mock] ℹ connected ")) since = 0;
      else if (l.includes("watchdog:")) expect(++since).toBe(1);
    }
    expect(stderr.some((l) => l.startsWith("[mock] WARN watchdog: "))).toBe(true);
    for (const step of ["1. scan", "2. collect", "3. mine", "4. schedule again", "Next:"])
      expect(r.stdout).toContain(step);
  }, 180_000);

  test("--help: no colour codes, no trailing spaces", async () => {
    for (const args of [["--help"], ["collect", "--help"], []]) {
      const r = await runCli(args, { env: PIPED });
      expect(r.stdout).toContain("USAGE");
      expect(r.stdout).not.toContain(ESC);
      expect(r.stdout).not.toMatch(/[ \t]$/m);
    }
  });

  test("NO_COLOR removes the colour FORCE_COLOR would add", async () => {
    const forced = await runCli(["--help"], { env: { ...PIPED, FORCE_COLOR: "1" } });
    expect(forced.stdout).toContain(ESC); // the check below is not vacuous
    const r = await runCli(["--help"], { env: { ...PIPED, FORCE_COLOR: "1", NO_COLOR: "1" } });
    expect(r.stdout).not.toContain(ESC);
  });
});
