/** `surveillance scan --venue polymarket` through the real CLI entry against the loopback Gamma. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../helpers/run-cli.ts";
import { conditionId, PolymarketServer, tokenIds } from "../helpers/polymarket-server.ts";

const server = new PolymarketServer({ markets: 730, badEvery: 50 });
const dir = mkdtempSync(join(tmpdir(), "pm-scan-"));
afterAll(() => {
  server.stop();
  rmSync(dir, { recursive: true, force: true });
});

function writeConfig(): string {
  const o = server.venueOptions();
  const path = join(dir, "surveillance.toml");
  writeFileSync(
    path,
    `data_dir = "${join(dir, "data")}"\n[venues.mock]\nenabled = false\n[venues.polymarket]\nenabled = true\ngamma_url = "${o.gamma_url}"\nclob_url = "${o.clob_url}"\nws_url = "${o.ws_url}"\n`,
  );
  return path;
}

function universeLines(): Record<string, unknown>[] {
  const base = join(dir, "data", "metadata", "venue=polymarket");
  const [date] = readdirSync(base);
  return readFileSync(join(base, date, "universe.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
}

describe("surveillance scan --venue polymarket (loopback)", () => {
  test("pages the whole multi-page universe into universe.jsonl, bad markets skipped", async () => {
    const r = await runCli(["scan", "--config", writeConfig(), "--venue", "polymarket"]);
    expect(r.code).toBe(0);
    const lines = universeLines();
    // 730 markets, every 50th unusable (14): 716 lines, in listing order
    const good = Array.from({ length: 730 }, (_, i) => i + 1).filter((i) => i % 50 !== 0);
    expect(lines.map((l) => l.market_id)).toEqual(good.map(conditionId));
    expect(server.gammaRequests.filter((u) => u.pathname === "/markets/keyset").length).toBe(8);
    const l1 = lines[0];
    expect(l1).toMatchObject({
      venue: "polymarket",
      market_id: conditionId(1),
      outcome_ids: tokenIds(1),
      title: "Will event 1 happen?",
      status: "active",
      tags: ["Sports"],
    });
    expect(l1.close_ts).toBe(Date.UTC(2026, 11, 1) + 3_600_000);
    expect(r.stdout).toContain("polymarket: 716 markets");
    expect(r.stderr).toContain("discovery rejected 7 token_outcome_mismatch, 7 bad_token_ids");
  }, 30_000);

  test("--limit stops paging early", async () => {
    const before = server.gammaRequests.length;
    const r = await runCli(["scan", "--config", writeConfig(), "--venue", "polymarket", "--limit", "20"]);
    expect(r.code).toBe(0);
    expect(universeLines().length).toBe(20);
    expect(server.gammaRequests.length - before).toBe(1);
  }, 30_000);
});
