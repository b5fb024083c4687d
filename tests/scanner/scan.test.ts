/** The scanner: atomic universe files, failing venues isolated, readLatestUniverse, and `surveillance scan` itself. */
import { afterAll, describe, expect, test } from "bun:test";
import {
  closeSync,
  fstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { SimClock } from "../../src/clock.ts";
import { parseConfig } from "../../src/config.ts";
import {
  findLatestUniverse,
  parseUniverse,
  readLatestUniverse,
  scanAll,
  scanVenue,
  writeUniverse,
} from "../../src/scanner/scanner.ts";
import { ADAPTERS } from "../../src/venue/index.ts";
import { runCli } from "../helpers/run-cli.ts";
import type { AdapterFactory } from "../../src/venue/types.ts";

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), "scan-test-"));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const T0 = Date.UTC(2026, 2, 14, 10, 30);
const REPO = join(import.meta.dir, "..", "..");

function config(dataDir: string, mock: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  return parseConfig({ data_dir: dataDir, venues: { mock, ...extra } });
}

/** A venue whose discovery fails, without touching any network. */
const failing: AdapterFactory = async (cfg) => ({
  name: cfg.name,
  discover: async () => {
    throw new Error("venue down");
  },
  connect: async () => {},
  subscribe() {},
  unsubscribe() {},
  resync() {},
  close: async () => {},
});

describe("scanner", () => {
  test("writes metadata/venue=V/date=YYYY-MM-DD/universe.jsonl, one market per line", async () => {
    const d = tmp();
    const clock = new SimClock(T0);
    const r = await scanVenue(config(d, { universe_size: 37 }).selected[0], { clock, env: {} }, d);
    const expected = join(d, "metadata", "venue=mock", "date=2026-03-14", "universe.jsonl");
    expect(r).toMatchObject({ venue: "mock", ok: true, markets: 37, path: expected });
    const lines = readFileSync(expected, "utf8").trimEnd().split("\n");
    expect(lines.length).toBe(37);
    const first = JSON.parse(lines[0]);
    expect(Object.keys(first).slice(0, 7)).toEqual([
      "venue",
      "market_id",
      "outcome_ids",
      "title",
      "close_ts",
      "status",
      "tags",
    ]);
    expect(first.market_id).toBe("mock-000000");
    expect(r.active).toBe(lines.map((l) => JSON.parse(l)).filter((m) => m.status === "active").length);
    // Only the final file is left in the directory: no temp files.
    expect(readdirSync(join(d, "metadata", "venue=mock", "date=2026-03-14"))).toEqual(["universe.jsonl"]);
  });

  test("re-running the same day replaces the file; a failed scan leaves the previous one", async () => {
    const d = tmp();
    const clock = new SimClock(T0);
    await scanVenue(config(d, { universe_size: 20 }).selected[0], { clock, env: {} }, d);
    clock.set(T0 + 3_600_000);
    const r = await scanVenue(config(d, { universe_size: 5 }).selected[0], { clock, env: {} }, d);
    const before = readFileSync(r.path!, "utf8");
    expect(before.trimEnd().split("\n").length).toBe(5);

    const original = ADAPTERS.mock;
    ADAPTERS.mock = async () => failing;
    try {
      const res = await scanAll(config(d, { universe_size: 50 }), { clock, env: {} });
      expect(res).toHaveLength(1);
      expect(res[0].ok).toBe(false);
      expect((res[0].error as Error).message).toBe("venue down");
    } finally {
      ADAPTERS.mock = original;
    }
    expect(readFileSync(r.path!, "utf8")).toBe(before);
  });

  test("replacing the universe is atomic: a reader that opened the old file still reads it whole (new inode)", async () => {
    const d = tmp();
    const mk = (n: number) =>
      Array.from({ length: n }, (_, i) => ({
        venue: "mock",
        market_id: `m${n}-${i}`,
        outcome_ids: ["y", "n"],
        title: "t".repeat(200),
        close_ts: null,
        status: "active" as const,
        tags: [],
      }));
    const p = await writeUniverse(d, "mock", mk(500), T0);
    const before = readFileSync(p, "utf8");
    const fd = openSync(p, "r");
    try {
      const ino = fstatSync(fd).ino;
      await writeUniverse(d, "mock", mk(3), T0);
      // A plain overwrite truncates the same inode: the reader would see the new (or a partial) text.
      expect(readFileSync(fd, "utf8")).toBe(before);
      expect(statSync(p).ino).not.toBe(ino);
      expect(readFileSync(p, "utf8").trimEnd().split("\n").length).toBe(3);
      expect(readdirSync(dirname(p))).toEqual(["universe.jsonl"]);
    } finally {
      closeSync(fd);
    }
  });

  test("one failing venue does not stop the others", async () => {
    const d = tmp();
    const cfg = parseConfig({ data_dir: d, venues: { kalshi: { enabled: true }, mock: { universe_size: 3 } } });
    const original = ADAPTERS.kalshi;
    ADAPTERS.kalshi = async () => failing;
    let res: Awaited<ReturnType<typeof scanAll>>;
    try {
      res = await scanAll(cfg, { clock: new SimClock(T0), env: {} });
    } finally {
      ADAPTERS.kalshi = original;
    }
    expect(res.map((r) => [r.venue, r.ok])).toEqual([
      ["kalshi", false],
      ["mock", true],
    ]);
  });

  test("readLatestUniverse: today's file, else the newest earlier day, never a later day", async () => {
    const d = tmp();
    const root = join(d, "metadata", "venue=mock");
    const put = (date: string, ids: string[]) => {
      mkdirSync(join(root, `date=${date}`), { recursive: true });
      writeFileSync(
        join(root, `date=${date}`, "universe.jsonl"),
        ids
          .map((id) =>
            JSON.stringify({
              market_id: id,
              outcome_ids: [`${id}-yes`],
              status: "active",
              title: id,
              close_ts: null,
              tags: [],
            }),
          )
          .join("\n") + "\n",
      );
    };
    expect(await readLatestUniverse(d, "mock", T0)).toBeUndefined();
    put("2026-03-10", ["a"]);
    put("2026-03-12", ["b"]);
    put("2026-03-20", ["future"]);
    mkdirSync(join(root, "date=2026-03-13")); // a day dir with no finished scan
    expect((await readLatestUniverse(d, "mock", T0))!.map((m) => m.market_id)).toEqual(["b"]);
    put("2026-03-14", ["c", "d"]);
    const f = await findLatestUniverse(d, "mock", T0);
    expect(f!.date).toBe("2026-03-14");
    expect(f!.markets.map((m) => m.market_id)).toEqual(["c", "d"]);
    expect(await readLatestUniverse(d, "other", T0)).toBeUndefined();
  });

  test("parseUniverse names the file and line of a bad line", () => {
    expect(() => parseUniverse('{"market_id":"a","outcome_ids":[],"status":"active"}\n{oops\n', "u.jsonl")).toThrow(
      "u.jsonl:2",
    );
    expect(() => parseUniverse('{"market_id":"a"}\n', "u.jsonl")).toThrow("u.jsonl:1: a market needs");
  });
});

describe("surveillance scan (CLI)", () => {
  const run = (args: string[]) => {
    const p = Bun.spawnSync(["bun", "bin/surveillance.ts", "scan", ...args], {
      cwd: REPO,
      stdout: "pipe",
      stderr: "pipe",
    });
    return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString() };
  };

  test("writes the mock universe, prints count and path on stdout, honours --limit", () => {
    const d = tmp();
    const cfgPath = join(d, "s.toml");
    writeFileSync(cfgPath, "[venues.mock]\nuniverse_size = 60\n");
    const r = run(["--config", cfgPath, "--data-dir", d, "--limit", "25"]);
    expect(r.code).toBe(0);
    const m = /^mock: 25 markets \(\d+ active\) -> (.+universe\.jsonl)$/m.exec(r.out);
    expect(m).not.toBeNull();
    expect(m![1].startsWith(join(d, "metadata", "venue=mock", "date="))).toBe(true);
    expect(readFileSync(m![1], "utf8").trimEnd().split("\n").length).toBe(25);
  });

  test("exit 1 when a venue fails (the others are still written); exit 2 on a bad --limit", () => {
    const d = tmp();
    const cfgPath = join(d, "s.toml");
    // mock2's directory is blocked by a file, so its write fails: deterministic, and no network involved.
    writeFileSync(cfgPath, '[venues.mock2]\nkind = "mock"\nuniverse_size = 7\n[venues.mock]\nuniverse_size = 10\n');
    mkdirSync(join(d, "metadata"));
    writeFileSync(join(d, "metadata", "venue=mock2"), "not a directory");
    const r = run(["--config", cfgPath, "--data-dir", d]);
    expect(r.code).toBe(1);
    expect(r.out).toContain("mock2: FAILED");
    expect(r.out).toContain("mock: 10 markets");
    expect(r.err).toContain("mock2: scan failed");
    const bad = run(["--config", cfgPath, "--data-dir", d, "--venue", "mock", "--limit", "zero"]);
    expect(bad.code).toBe(2);
  });

  test("an unwritable data dir fails before any network work; a venue's failure is printed once and names the host", async () => {
    const d = tmp();
    let requests = 0;
    const server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: () => {
        requests++;
        return new Response("no", { status: 404 });
      },
    });
    try {
      const host = `127.0.0.1:${server.port}`;
      const cfgPath = join(d, "s.toml");
      writeFileSync(cfgPath, `[venues.polymarket]\ngamma_url = "http://${host}"\nclob_url = "http://${host}"\n`);
      // the data dir's path is taken by a file: it can be neither created nor written (chmod stops no root)
      writeFileSync(join(d, "taken"), "");
      const blocked = await runCli(["scan", "--config", cfgPath, "--data-dir", join(d, "taken", "data")]);
      expect(blocked.code).toBe(1);
      expect(blocked.stderr).toContain(
        `data dir ${join(d, "taken", "data")} cannot be written (ENOTDIR); nothing was fetched`,
      );
      expect(requests).toBe(0);

      const failed = await runCli(["scan", "--config", cfgPath, "--data-dir", join(d, "data")]);
      expect(failed.code).toBe(1);
      expect(requests).toBeGreaterThan(0);
      const reason = `GET http://${host}/markets: HTTP 404`; // after the keyset endpoint, the offset one
      expect(`${failed.stdout}${failed.stderr}`.split(reason).length - 1).toBe(1);
      expect(failed.stderr).toContain(`[scan] ERROR polymarket: scan failed: ${reason}`);
      expect(failed.stdout).toBe("polymarket: FAILED (reason on stderr)\n");
    } finally {
      server.stop(true);
    }
  }, 60_000);
});
