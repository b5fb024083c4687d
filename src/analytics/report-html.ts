/**
 * Renders ReportData as one self-contained HTML file (nothing fetched at view time): uPlot inlined (53 KB; made for
 * dense time series, where ECharts would add ~1 MB) for the charts, a canvas for the coverage heatmap, tables for
 * the rankings.
 */
import uplotCss from "uplot/dist/uPlot.min.css" with { type: "text" };
import uplotJs from "uplot/dist/uPlot.iife.min.js" with { type: "text" };
import type { ReportData } from "./report.ts";
import { formatRange } from "../timebucket.ts";

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

/** JSON safe inside a <script> element. */
const scriptJson = (x: unknown) => JSON.stringify(x).replace(/</g, "\\u003c");

const PAGE_CSS = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 32px 0 8px; border-bottom: 1px solid #ddd; }
h3 { font-size: 15px; margin: 18px 0 6px; } .meta { color: #666; }
table { border-collapse: collapse; margin: 6px 0 14px; } td, th { padding: 2px 8px; text-align: left; }
th { border-bottom: 1px solid #ccc; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
.heat { display: flex; align-items: flex-start; gap: 6px; } .heat-labels div { height: 12px; font-size: 10px;
white-space: nowrap; overflow: hidden; max-width: 260px; line-height: 12px; }
.rankings { display: flex; gap: 24px; flex-wrap: wrap; }
`;

/** The page's script: reads the embedded data, draws every chart, and records errors and chart counts on <body>. */
const PAGE_JS = `
(function () {
  var errors = [];
  window.addEventListener("error", function (e) { errors.push(String(e.message)); document.body.dataset.errors = errors.join(" | "); });
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];
  var charts = 0;
  function fmt(x, d) { return x === null || x === undefined ? "-" : Number(x).toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d }); }
  function el(tag, attrs, text) { var e = document.createElement(tag); for (var k in attrs || {}) e.setAttribute(k, attrs[k]); if (text !== undefined) e.textContent = text; return e; }
  function lineChart(parent, title, t, series, yLabel) {
    var box = el("div", { "class": "chart", "data-chart": title });
    parent.appendChild(box);
    var xs = t.map(function (x) { return x / 1000; });
    var opts = { title: title, width: 1100, height: 240, scales: { x: { time: true } },
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"); },
      axes: [{}, { label: yLabel, size: 70 }],
      series: [{}].concat(series.map(function (s, i) { return { label: s.label, stroke: COLORS[i % COLORS.length], width: 1.5, spanGaps: false }; })) };
    new uPlot(opts, [xs].concat(series.map(function (s) { return s.values; })), box);
    charts++;
  }
  function heatmap(parent, cov) {
    var wrap = el("div", { "class": "heat" });
    var labels = el("div", { "class": "heat-labels" });
    cov.markets.forEach(function (m) { labels.appendChild(el("div", { title: m.market_id }, m.title ? m.title : m.market_short)); });
    var cw = Math.max(2, Math.min(24, Math.floor(820 / Math.max(1, cov.cells.length))));
    var canvas = el("canvas", { "class": "heatmap", width: String(cw * cov.cells.length), height: String(12 * cov.markets.length + 16) });
    var g = canvas.getContext("2d");
    cov.share.forEach(function (row, r) {
      row.forEach(function (v, c) { g.fillStyle = v > 0 ? "rgba(31,119,180," + (0.15 + 0.85 * v) + ")" : "#f3f3f3"; g.fillRect(c * cw, r * 12, cw - (cw > 3 ? 1 : 0), 11); });
    });
    g.fillStyle = "#444"; g.font = "10px sans-serif";
    var every = Math.max(1, Math.ceil(60 / cw));
    cov.cells.forEach(function (c, i) { if (i % every === 0) g.fillText(new Date(c).toISOString().slice(cov.cellMs < 3600000 ? 11 : 5, 16).replace("T", " "), i * cw, 12 * cov.markets.length + 12); });
    wrap.appendChild(labels); wrap.appendChild(canvas); parent.appendChild(wrap);
    charts++;
  }
  function table(parent, title, books, value) {
    var box = el("div"); box.appendChild(el("h3", {}, title));
    var tb = el("table", { "class": "ranking" });
    var head = el("tr"); ["#", "market", "outcome", value.name, "min watched"].forEach(function (h) { head.appendChild(el("th", {}, h)); });
    tb.appendChild(head);
    books.forEach(function (b, i) {
      var tr = el("tr");
      tr.appendChild(el("td", { "class": "n" }, String(i + 1)));
      tr.appendChild(el("td", { title: b.market_id }, b.title ? b.title : b.market_short));
      tr.appendChild(el("td", { title: b.outcome_id }, b.outcome_text));
      tr.appendChild(el("td", { "class": "n" }, value.get(b)));
      tr.appendChild(el("td", { "class": "n" }, fmt(b.minutes_watched, 0)));
      tb.appendChild(tr);
    });
    box.appendChild(tb); parent.appendChild(box);
  }
  var root = document.getElementById("venues");
  data.venues.forEach(function (v) {
    var sec = el("section", { "class": "venue", "data-venue": v.venue });
    sec.appendChild(el("h2", {}, v.venue));
    sec.appendChild(el("p", { "class": "meta" }, v.rows.toLocaleString("en-US") + " snapshots, " + v.books + " books in " + v.markets + " markets, " +
      (v.firstTs === null ? "-" : new Date(v.firstTs).toISOString().slice(0, 16).replace("T", " ")) + " to " +
      (v.lastTs === null ? "-" : new Date(v.lastTs).toISOString().slice(0, 16).replace("T", " ")) + " UTC"));
    sec.appendChild(el("h3", {}, "Coverage: share of each " + (v.coverage.cellMs < 3600000 ? "5 minutes" : "hour") + " watched (" +
      (v.coverage.source === "journal" ? "subscription journal" : "snapshots") + "), " + v.coverage.markets.length + " most watched of " + v.coverage.marketsTotal + " markets"));
    heatmap(sec, v.coverage);
    var step = " (per " + Math.round(v.bucketMs / 60000) + " min, UTC)";
    lineChart(sec, "Spread of the top books" + step, v.t, v.top.map(function (b) { return { label: b.label, values: b.spread }; }), "spread");
    lineChart(sec, "Depth (top 3 levels, both sides) of the top books" + step, v.t, v.top.map(function (b) { return { label: b.label, values: b.depth }; }), "contracts");
    lineChart(sec, "Mid of the top books" + step, v.t, v.top.map(function (b) { return { label: b.label, values: b.mid }; }), "price");
    lineChart(sec, "Stale / one-sided / empty share of all snapshots" + step, v.t,
      [{ label: "stale", values: v.shares.stale }, { label: "one-sided", values: v.shares.oneSided }, { label: "empty", values: v.shares.empty }], "share");
    var r = el("div", { "class": "rankings" });
    table(r, "Deepest books", v.rankings.depth, { name: "avg depth", get: function (b) { return fmt(b.avg_depth, 0); } });
    table(r, "Tightest spreads", v.rankings.spread, { name: "avg spread", get: function (b) { return fmt(b.avg_spread, 4); } });
    table(r, "Most active", v.rankings.activity, { name: "changes/min", get: function (b) { return fmt(b.activity, 2); } });
    sec.appendChild(r);
    root.appendChild(sec);
  });
  if (data.pairs && data.pairs.length > 0) {
    var ps = el("section", { "class": "pairs" });
    ps.appendChild(el("h2", {}, "Cross-venue pairs"));
    ps.appendChild(el("p", { "class": "meta" }, "Confirmed pairs: both mids over time, B oriented to A's outcome. Crossable ignores fees; the two venues' settlement rules may differ (read both rulebooks)."));
    data.pairs.forEach(function (p) {
      ps.appendChild(el("p", {}, p.summary));
      lineChart(ps, "Mid: " + p.label + " (per " + Math.round(p.bucketMs / 60000) + " min, UTC)", p.t, [{ label: p.a_label, values: p.a }, { label: p.b_label, values: p.b }], "price");
    });
    root.appendChild(ps);
  }
  document.body.dataset.charts = String(charts);
  document.body.dataset.rendered = "true";
})();
`;

export function reportHtml(d: ReportData): string {
  const iso = (ts: number) => `${new Date(ts).toISOString().slice(0, 16).replace("T", " ")} UTC`;
  const venues = d.venues.map((v) => v.venue).join(", ");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>surveillance report: ${esc(venues)}</title>
<style>${uplotCss}</style>
<style>${PAGE_CSS}</style>
</head>
<body>
<h1>surveillance report</h1>
<p class="meta">${esc(venues)} · ${esc(formatRange(d.from, d.to))} UTC · generated ${esc(iso(d.generatedAt))}</p>
<div id="venues"></div>
<script id="report-data" type="application/json">${scriptJson(d)}</script>
<script>${uplotJs}</script>
<script>${PAGE_JS}</script>
</body>
</html>
`;
}

/** Writes the report (temp file, rename) and returns its size in bytes. */
export async function writeReport(path: string, d: ReportData): Promise<number> {
  const html = reportHtml(d);
  const tmp = `${path}.partial`;
  await Bun.write(tmp, html);
  const { renameSync } = await import("node:fs");
  renameSync(tmp, path);
  return Buffer.byteLength(html);
}
