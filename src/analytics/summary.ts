/**
 * Renders a MineResult as the concise text summary (ids shortened, outcome labels, mirror books folded) or as JSON
 * (same content, ids whole, keys in snake_case as the files use).
 */
import type { MineResult, RankedBook, VenueResult } from "./miner.ts";
import { type BookNamer, bookNamer } from "./labels.ts";
import { formatRange } from "../timebucket.ts";

const iso = (ts: number | null) => (ts === null ? "-" : new Date(ts).toISOString().slice(0, 19).replace("T", " "));
const num = (x: number | null, digits = 2) =>
  x === null ? "-" : x.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** One venue's part of the JSON, keys in snake_case as in the Parquet files; ids whole. */
function venueJson(v: VenueResult): unknown {
  return {
    venue: v.venue,
    files: v.files,
    files_read: v.filesRead,
    files_skipped: v.filesSkipped,
    days_from_partials: v.daysFromPartials,
    days_mined: v.daysMined,
    rows: v.rows,
    markets: v.markets,
    books: v.books,
    first_ts: v.firstTs,
    last_ts: v.lastTs,
    minutes_source: v.minutesSource,
    top: v.top,
    suspects: v.suspects,
    stats_file: v.statsFile ?? null,
  };
}

/** The JSON form of the result (everything but the full per-book table); `from`/`to` are [from, to), `range` both ends included. */
export function resultJson(r: MineResult): unknown {
  const t = r.totals;
  return {
    from: new Date(r.from).toISOString(),
    to: new Date(r.to).toISOString(),
    range: formatRange(r.from, r.to),
    venues: r.venues.map(venueJson),
    skipped: r.skipped,
    totals: {
      rows: t.rows,
      files: t.files,
      files_read: t.filesRead,
      files_skipped: t.filesSkipped,
      markets: t.markets,
      books: t.books,
    },
    elapsed_ms: Math.round(r.elapsedMs),
  };
}

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

function table(title: string, books: RankedBook[], value: (b: RankedBook) => string, name: BookNamer): string[] {
  if (books.length === 0) return [`  ${title}: none`];
  const names = books.map(name);
  // The value, then how long the book was watched (a short watch means a noisier estimate).
  const vals = books.map(
    (b) => `${value(b)}  ${Math.round(b.minutes_watched).toLocaleString("en-US").padStart(5)} min`,
  );
  const wId = Math.max(...names.map((n) => n.id.length));
  const wOut = Math.min(32, Math.max(...names.map((n) => n.outcome.length)));
  const wVal = Math.max(...vals.map((s) => s.length));
  const lines = [`  ${title}`];
  books.forEach((b, i) => {
    const t = b.title ? `  ${clip(b.title, 60)}` : "";
    const outcome = clip(names[i].outcome, wOut).padEnd(wOut);
    lines.push(`  ${String(i + 1).padStart(3)}  ${names[i].id.padEnd(wId)}  ${outcome}  ${vals[i].padStart(wVal)}${t}`);
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
    const ranked = [...v.top.depth, ...v.top.spread, ...v.top.activity];
    const name = bookNamer([...ranked, ...v.suspects]);
    out.push(...table("by depth (mean of top-3 bid + top-3 ask size)", v.top.depth, (b) => num(b.avg_depth, 1), name));
    out.push(
      ...table(
        "by tightest spread (mean; median)",
        v.top.spread,
        (b) => `${num(b.avg_spread, 4)}; ${num(b.median_spread, 4)}`,
        name,
      ),
    );
    out.push(...table("by activity (book changes per minute)", v.top.activity, (b) => num(b.activity, 2), name));
    if (ranked.some((b) => b.mirror_outcome_id !== undefined))
      out.push(
        "  (+X): the market's other outcome X, its mirror book, is folded into the line (figures of the side shown)",
      );
    if (v.suspects.length === 0) out.push("  suspect books: none (no crossed book, locked < 5%, parity p95 ≤ 0.05)");
    else {
      out.push("  suspect books (recorded as sent)");
      for (const s of v.suspects) {
        const n = name(s);
        out.push(`       ${n.id} ${n.outcome}  ${s.reason}${s.title ? `  ${s.title}` : ""}`);
      }
    }
    if (v.statsFile) out.push(`  stats: ${v.statsFile}`);
    out.push("");
  }
  const t = r.totals;
  out.push(
    `total: ${t.rows.toLocaleString("en-US")} rows, ${t.files} files${t.filesSkipped ? ` (${t.filesSkipped} skipped)` : ""}, ${t.markets} markets, ` +
      `range ${formatRange(r.from, r.to)} UTC, ${(r.elapsedMs / 1000).toFixed(2)} s`,
  );
  return out.join("\n");
}
