/**
 * The pairs matcher on two mock universes of growing size (twin_share 0.3): wall time, markets/s, peak RSS, and the
 * precision/recall against the twins' truth. Doubling the size should roughly double the time (blocking, not N²).
 * Past a few thousand markets the mock repeats questions (same subject, threshold and day), so its truth gets
 * ambiguous and precision/recall fall for that reason, not the matcher's.
 */
import { SimClock } from "../src/clock.ts";
import { parseConfig } from "../src/config.ts";
import { knownPairs, matchQuality, matchVenues } from "../src/pairs/match.ts";
import { MockVenue } from "../src/venue/mock.ts";

let peak = 0;
const rss = () => (peak = Math.max(peak, process.memoryUsage.rss()));
for (const size of [400, 2500, 5000, 10_000, 20_000]) {
  const cfg = parseConfig({
    venues: {
      a: { kind: "mock", seed: 11, universe_size: size },
      b: { kind: "mock", seed: 12, universe_size: size, twin_of: "a" },
    },
  });
  const clock = new SimClock(Date.UTC(2026, 5, 1, 8));
  const a = await new MockVenue(cfg.venues[0], { clock, env: {} }).discover();
  const b = await new MockVenue(cfg.venues[1], { clock, env: {} }).discover();
  const t0 = performance.now();
  const cands = matchVenues(a, b, { minScore: 0.6, maxPerMarket: 3, closeToleranceMs: 24 * 3_600_000 });
  const s = (performance.now() - t0) / 1000;
  rss();
  const q = matchQuality(cands, knownPairs(a, b));
  console.log(
    `${String(size).padStart(6)} × ${size}: ${s.toFixed(2)} s, ${Math.round((2 * size) / s).toLocaleString("en-US")} markets/s, ${cands.length} candidates, precision ${q.precision.toFixed(3)}, recall ${q.recall.toFixed(3)}, peak RSS ${(peak / 1e6).toFixed(0)} MB`,
  );
}
