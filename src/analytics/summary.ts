/** Renders a MineResult as the concise text summary or as JSON (same content). */
import type { MineResult, RankedBook } from "./miner.ts";

const iso = (ts: number | null) => (ts === null ? "-" : new Date(ts).toISOString().slice(0, 19).replace("T", " "));
const num = (x: number | null, digits = 2) =>
  x === null ? "-" : x.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** The JSON form of the result (everything but the full per-book table). */
export function resultJson(r: MineResult): unknown {
  return {
    from: new Date(r.from).toISOString(),
    to: new Date(r.to).toISOString(),
    venues: r.venues,
    skipped: r.skipped,
    totals: r.totals,
    elapsed_ms: Math.round(r.elapsedMs),
  };
}

function table(title: string, books: RankedBook[], value: (b: RankedBook) => string): string[] {
  if (books.length === 0) return [`  ${title}: none`];
  const ids = books.map((b) => `${b.market_id} ${b.outcome_id}`);
  // The value, then how long the book was watched (a short watch means a noisier estimate).
  const vals = books.map(
    (b) => `${value(b)}  ${Math.round(b.minutes_watched).toLocaleString("en-US").padStart(5)} min`,
  );
  const wId = Math.min(40, Math.max(...ids.map((s) => s.length)));
  const wVal = Math.max(...vals.map((s) => s.length));
  const lines = [`  ${title}`];
  books.forEach((b, i) => {
    const id = ids[i].length > wId ? `${ids[i].slice(0, wId - 1)}…` : ids[i].padEnd(wId);
    const t = b.title ? `  ${b.title.length > 60 ? `${b.title.slice(0, 59)}…` : b.title}` : "";
    lines.push(`  ${String(i + 1).padStart(3)}  ${id}  ${vals[i].padStart(wVal)}${t}`);
  });
  return lines;
}

export function formatSummary(r: MineResult): string {
  const out: string[] = [];
  for (const v of r.venues) {
    out.push(
      `${v.venue}: ${v.rows.toLocaleString("en-US")} rows in ${v.files} files${v.filesSkipped ? ` (${v.filesSkipped} skipped)` : ""}, ` +
        `${v.markets} markets / ${v.books} books, ${iso(v.firstTs)} .. ${iso(v.lastTs)} UTC, minutes watched from ${v.minutesSource}`,
    );
    out.push(...table("by depth (mean of top-3 bid + top-3 ask size)", v.top.depth, (b) => num(b.avg_depth, 1)));
    out.push(
      ...table(
        "by tightest spread (mean; median)",
        v.top.spread,
        (b) => `${num(b.avg_spread, 4)}; ${num(b.median_spread, 4)}`,
      ),
    );
    out.push(...table("by activity (book changes per minute)", v.top.activity, (b) => num(b.activity, 2)));
    if (v.suspects.length === 0) out.push("  suspect books: none (no crossed book, locked < 5%, parity p95 ≤ 0.05)");
    else {
      out.push("  suspect books (recorded as sent)");
      for (const s of v.suspects)
        out.push(`       ${s.market_id} ${s.outcome_id}  ${s.reason}${s.title ? `  ${s.title}` : ""}`);
    }
    if (v.statsFile) out.push(`  stats: ${v.statsFile}`);
    out.push("");
  }
  const t = r.totals;
  out.push(
    `total: ${t.rows.toLocaleString("en-US")} rows, ${t.files} files${t.filesSkipped ? ` (${t.filesSkipped} skipped)` : ""}, ${t.markets} markets, ` +
      `range ${iso(r.from)} .. ${iso(r.to)} UTC, ${(r.elapsedMs / 1000).toFixed(2)} s`,
  );
  return out.join("\n");
}
