/** `surveillance pairs` end to end: candidates written, decisions recorded, bad usage exit 2. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../helpers/run-cli.ts";

let dir: string;
let config: string;
const lines = (p: string) =>
  readFileSync(p, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "pairs-cli-"));
  config = join(dir, "s.toml");
  writeFileSync(
    config,
    [
      `data_dir = "${join(dir, "data")}"`,
      "[venues.mock]",
      "enabled = false",
      "[venues.mock_a]",
      'kind = "mock"',
      "seed = 11",
      "[venues.mock_b]",
      'kind = "mock"',
      "seed = 12",
      'twin_of = "mock_a"',
    ].join("\n"),
  );
  const scan = await runCli(["scan", "--config", config]);
  expect(scan.code).toBe(0);
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("surveillance pairs", () => {
  test("writes candidates best first with the documented fields; prints counts, precision and recall on twins", async () => {
    const r = await runCli(["pairs", "--config", config, "--top", "3"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/mock_a × mock_b: \d+ × \d+ active markets, \d+ candidates with score ≥ 0\.6/);
    const m = /precision ([\d.]+), recall ([\d.]+)/.exec(r.stdout)!;
    expect(Number(m[1])).toBeGreaterThanOrEqual(0.9);
    expect(Number(m[2])).toBeGreaterThanOrEqual(0.9);
    const cands = lines(join(dir, "data", "mappings", "candidates.jsonl"));
    expect(cands.length).toBeGreaterThan(80);
    for (const k of ["a_venue", "a_market_id", "b_venue", "b_market_id", "score", "reasons", "orientation"])
      expect(cands[0]).toHaveProperty(k);
    expect(cands[0].a_venue).toBe("mock_a");
    expect(Array.isArray(cands[0].reasons)).toBe(true);
    expect(r.stdout).toContain(`   1. ${cands[0].score.toFixed(3)}`);
  }, 60_000);

  test("--accept/--reject record decisions; rejected and confirmed pairs are not proposed again", async () => {
    const before = lines(join(dir, "data", "mappings", "candidates.jsonl"));
    const [c1, c2] = before;
    const d = await runCli([
      "pairs",
      "--config",
      config,
      "--accept",
      "1",
      "--reject",
      `${c2.b_venue}:${c2.b_market_id}=${c2.a_venue}:${c2.a_market_id}`,
    ]);
    expect(d.code).toBe(0);
    const mapping = lines(join(dir, "data", "mappings", "pairs.jsonl"));
    expect(mapping.map((x) => [x.a_market_id, x.b_market_id, x.status])).toEqual([
      [c1.a_market_id, c1.b_market_id, "confirmed"],
      [c2.b_market_id, c2.a_market_id, "rejected"],
    ]);
    expect(mapping[0].orientation).toBe(c1.orientation);
    const again = await runCli(["pairs", "--config", config]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("2 pairs already decided");
    const after = lines(join(dir, "data", "mappings", "candidates.jsonl"));
    const keys = new Set(after.map((c) => `${c.a_market_id}|${c.b_market_id}`));
    expect(keys.has(`${c1.a_market_id}|${c1.b_market_id}`)).toBe(false);
    expect(keys.has(`${c2.a_market_id}|${c2.b_market_id}`)).toBe(false);
    expect(after.length).toBe(before.length - 2);
  }, 60_000);

  test("bad usage is exit 2 with the reason: one venue, a bad pair, a damaged mapping line", async () => {
    const one = await runCli(["pairs", "--config", config, "--venue", "mock_a"]);
    expect(one.code).toBe(2);
    expect(one.stderr).toContain("two or more venues");
    const bad = await runCli(["pairs", "--config", config, "--accept", "nonsense"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("not a pair");
    const path = join(dir, "data", "mappings", "pairs.jsonl");
    writeFileSync(path, `${readFileSync(path, "utf8")}{"a_venue":"mock_a"\n`);
    const damaged = await runCli(["pairs", "--config", config]);
    expect(damaged.code).toBe(2);
    expect(damaged.stderr).toMatch(/pairs\.jsonl:3: not valid JSON/);
  }, 60_000);
});
