/**
 * The mock venue alone at max speed: events/s it can emit into a sink that does nothing, for 2,000 subscribed
 * markets (4,000 books), both driven by a SimClock (one timer, coalesced wake-ups) and by calling pump() directly.
 * This is the budget the collector benchmark spends on the venue side. Figures are noisy on a shared machine.
 */
import { SimClock } from "../src/clock.ts";
import { parseConfig } from "../src/config.ts";
import { MockVenue } from "../src/venue/mock.ts";
import type { VenueEvent } from "../src/venue/types.ts";

const MARKETS = 2000;
const cfg = parseConfig({ venues: { mock: { universe_size: MARKETS, updates_per_sec: 100, closed_share: 0 } } })
  .selected[0];
let peak = 0;
const rss = () => (peak = Math.max(peak, process.memoryUsage.rss()));

async function run(label: string, drive: (v: MockVenue, clock: SimClock) => Promise<void>): Promise<void> {
  const clock = new SimClock(Date.UTC(2026, 0, 1));
  const venue = new MockVenue(cfg, { clock, env: {} });
  const u = await venue.discover();
  let n = 0;
  let levels = 0;
  await venue.connect((ev: VenueEvent) => {
    n++;
    if (ev.kind === "level") levels++;
  });
  venue.subscribe(
    u.filter((m) => m.status === "active").map((m) => ({ market_id: m.market_id, outcome_ids: m.outcome_ids })),
  );
  const t0 = performance.now();
  await drive(venue, clock);
  const s = (performance.now() - t0) / 1000;
  rss();
  console.log(
    `${label.padEnd(28)} ${n.toLocaleString().padStart(12)} events  ${Math.round(levels / s)
      .toLocaleString()
      .padStart(11)} level events/s  ${s.toFixed(2)} s`,
  );
}

await run("SimClock.advance (60 s sim)", async (_v, clock) => {
  for (let i = 0; i < 60; i++) await clock.advance(1000);
});
await run("pump() direct (60 s sim)", async (v, clock) => {
  const start = clock.now();
  for (let t = start; t <= start + 60_000; t += 50) v.pump(t);
});
console.log(
  `peak RSS ${(peak / 1e6).toFixed(0)} MB (markets ${MARKETS}, active rate ${cfg.options && (cfg.options as { updates_per_sec: number }).updates_per_sec}/s mean per market)`,
);
