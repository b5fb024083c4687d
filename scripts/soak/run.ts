/**
 * `bun run soak [--quick]`: the long-run proof, simulated days on the mock with every fault on beside real time on the
 * loopback venues; one figures table, then `soak: PASS …` or `soak: FAIL …` (exit 1) (docs/reliability.md).
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type RealtimeResult, runRealtime } from "./realtime.ts";
import { runSimDays } from "./sim-days.ts";

const { values: a } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    days: { type: "string" },
    seed: { type: "string", default: "1" },
    universe: { type: "string" },
    kills: { type: "string" },
    minutes: { type: "string" },
    only: { type: "string" },
    keep: { type: "boolean", default: false },
    "realtime-out": { type: "string" },
  },
});
const say = (m: string) => process.stderr.write(`[soak] ${m}\n`);
const started = performance.now();
const days = Number(a.days ?? (a.quick ? 1 : 7));
const minutes = Number(a.minutes ?? (a.quick ? 3 : 30));
const want = (part: string) => !a.only || a.only === part;
const realtimeOf = (v: "polymarket" | "kalshi", i: number) =>
  runRealtime(v, { minutes, markets: 1000, seed: Number(a.seed) + i, ratePerSec: 200, log: say });
/**
 * The two parts run side by side: part 2 is real time and mostly waits; part 1 is simulated and CPU-bound. With both,
 * part 2 runs in a process of its own: part 1's end checks (DuckDB over the whole record, verify) hold this process
 * for minutes, and the loopback servers living here would stall with it (the collectors would see dead venues).
 */
async function realtimeApart(): Promise<RealtimeResult[]> {
  const out = join(tmpdir(), `soak-realtime-${process.pid}.json`);
  const args = ["--only", "realtime", "--minutes", String(minutes), "--seed", String(a.seed), "--realtime-out", out];
  const proc = Bun.spawn(["bun", import.meta.path, ...args], { stdout: "ignore", stderr: "inherit", stdin: "ignore" });
  const code = await proc.exited;
  if (code !== 0 || !existsSync(out)) throw new Error(`the real-time part exited ${code} without its results`);
  const results = JSON.parse(readFileSync(out, "utf8")) as RealtimeResult[];
  rmSync(out, { force: true });
  return results;
}
const realtime: Promise<RealtimeResult[]> = !want("realtime")
  ? Promise.resolve([])
  : want("sim")
    ? realtimeApart()
    : Promise.all((["polymarket", "kalshi"] as const).map(realtimeOf));
if (a["realtime-out"]) {
  // The child of realtimeApart: its results for the parent, which checks and prints them.
  writeFileSync(a["realtime-out"], JSON.stringify(await realtime));
  process.exit(0);
}
const sim = want("sim")
  ? await runSimDays({
      days,
      seed: Number(a.seed),
      universe: Number(a.universe ?? 2000),
      killsPerDay: Number(a.kills ?? 2),
      // The quick form records fewer markets so that one simulated day fits CI's budget.
      maxSubs: a.quick ? 100 : 200,
      // A quick day writes ~150 MB, a default one ~330 MB: the disk fills past its floor within the run.
      fsMb: a.quick ? 160 : 1200,
      keepDir: a.keep,
      log: say,
    })
  : undefined;
const rt = await realtime;
const fails: string[] = [];
for (const r of rt) {
  if (r.mismatched > 0)
    fails.push(
      `${r.venue}: ${r.mismatched} rows differ from every book the server sent (${r.unmatchedExamples.join(", ")})`,
    );
  if (r.okRows === 0) fails.push(`${r.venue}: no ok rows`);
  if (r.laggingUnexplained > r.okRows * 0.01)
    fails.push(`${r.venue}: ${r.laggingUnexplained} ok rows more than 2 s behind the server outside half-open windows`);
  if (r.maxAttemptsPerMinute > r.attemptBound)
    fails.push(`${r.venue}: ${r.maxAttemptsPerMinute} reconnect attempts in a minute (bound ${r.attemptBound})`);
}
if (sim) {
  if (sim.lost > 0) fails.push(`${sim.lost} durable rows lost`);
  if (sim.duplicates > 0) fails.push(`${sim.duplicates} duplicate rows`);
  if (sim.strayFiles.length > 0) fails.push(`stray files: ${sim.strayFiles.slice(0, 3).join(", ")}`);
  if (sim.unreadable.length > 0) fails.push(`unreadable: ${sim.unreadable.slice(0, 3).join(", ")}`);
  if (!sim.manifestOk) fails.push("manifest check failed");
  if (sim.verifyExit !== 0) fails.push(`verify exit ${sim.verifyExit}: ${sim.verifyTail}`);
  if (sim.filesMissingPin > 0) fails.push(`${sim.filesMissingPin} final files miss a pinned market`);
  if (sim.pinBooksBelowHot > 0)
    fails.push(`${sim.pinBooksBelowHot} pinned books below HOT cadence in a file (${sim.belowHotExamples.join(", ")})`);
  if (sim.filteredOutRows > 0) fails.push(`${sim.filteredOutRows} rows of markets the filter excludes`);
  if (sim.archive.bucketDiffers.length > 0)
    fails.push(`bucket differs from the verified file: ${sim.archive.bucketDiffers.slice(0, 3).join(", ")}`);
  if (sim.archive.deletedUnverified.length > 0)
    fails.push(`deleted locally without a verified copy: ${sim.archive.deletedUnverified.slice(0, 3).join(", ")}`);
  if (sim.archive.verified === 0) fails.push("nothing was uploaded");
  if (sim.outsideLayout.length > 0) fails.push(`outside the layout: ${sim.outsideLayout.slice(0, 3).join(", ")}`);
  // Coverage (the collector's own accounting, status --coverage): every missing snapshot explained (unknown 0 in
  // every hour), and at least 99.9% of what was due recorded while the collector ran (crash windows, clock-step
  // stalls, the in-flight tail and the churn wait taken out, each of them counted).
  for (const c of sim.coverage) {
    if (c.unknown > 0)
      fails.push(`${c.day}: ${c.unknown} missing snapshots unexplained (${c.unknownHours.slice(0, 3).join(", ")})`);
    if (c.runningPct < 99.9) fails.push(`${c.day}: coverage while running ${c.runningPct.toFixed(3)}% (< 99.9%)`);
  }
  // RSS after day 1 flat within ±10% of its mean: the settled figure (after a full GC, the day's median), as a leak
  // shows there; the peak depends on when the collector last ran its GC and on the machine's load, so it is shown only.
  const later = sim.days.slice(1).map((d) => d.settledRssMb);
  if (later.length > 1) {
    const mean = later.reduce((x, y) => x + y, 0) / later.length;
    const worst = Math.max(...later.map((x) => Math.abs(x / mean - 1)));
    if (worst > 0.1) fails.push(`settled RSS after day 1 varies by ${(worst * 100).toFixed(0)}% of its mean (> 10%)`);
  }
  // Journal, upload ledger and manifest sizes linear in time: each day's growth within ±25% of the mean daily growth.
  // The ledger's live part (one line per file) is what grows; the file itself also holds superseded lines until a
  // start compacts it (more than 1,000 lines and over half superseded), so it must stay within a small factor.
  for (const key of ["journalBytes", "ledgerLiveBytes", "manifestBytes"] as const) {
    const grow = sim.days.map((d, i) => d[key] - (i > 0 ? sim.days[i - 1][key] : 0));
    if (grow.length > 2) {
      const mean = grow.reduce((s, x) => s + x, 0) / grow.length;
      const worst = Math.max(...grow.map((g) => Math.abs(g / mean - 1)));
      if (worst > 0.25) fails.push(`${key} not linear: daily growth varies by ${(worst * 100).toFixed(0)}%`);
    }
  }
  for (const d of sim.days)
    if (d.ledgerBytes > 4 * d.ledgerLiveBytes + 512 * 1024)
      fails.push(`${d.day}: ledger ${d.ledgerBytes} bytes, > 4× its live lines (${d.ledgerLiveBytes}): not compacted`);
  console.log(
    "| day | runs | kills | rows durable | RSS MB settled (peak) | journal KB | ledger KB (live) | manifest KB | wall s |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|");
  for (const d of sim.days)
    console.log(
      `| ${d.day} | ${d.children} | ${d.kills} | ${d.durable} | ${d.settledRssMb.toFixed(0)} (${d.peakRssMb.toFixed(0)}) | ${(d.journalBytes / 1024).toFixed(0)} | ${(d.ledgerBytes / 1024).toFixed(0)} (${(d.ledgerLiveBytes / 1024).toFixed(0)}) | ${(d.manifestBytes / 1024).toFixed(0)} | ${d.wallSecs.toFixed(0)} |`,
    );
  console.log("");
  console.log(
    "| day | expected | recorded | coverage while running | crash | in flight | clock-step stalls | churn wait | writer drops | unknown | extra |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|---|---|");
  for (const c of sim.coverage)
    console.log(
      `| ${c.day} | ${c.expected} | ${c.recorded} | ${c.runningPct.toFixed(3)}% | ${c.crash} | ${c.inFlight} | ${c.stalled} | ${c.notSubscribed} | ${c.writerDropped} | ${c.unknown} | ${c.extra} |`,
    );
  console.log(
    `rows durable ${sim.durable}, found ${sim.found}, lost ${sim.lost}, duplicates ${sim.duplicates}, verify exit ${sim.verifyExit}; pins ${sim.pins.length}: files missing one ${sim.filesMissingPin}, books below HOT cadence ${sim.pinBooksBelowHot}; rows outside the filter ${sim.filteredOutRows}`,
  );
  console.log(
    `upload: ${sim.archive.verified} files verified in the bucket (${sim.archive.bucketDiffers.length} differ), store away 1 simulated h/day (${sim.archive.outageFaults} requests refused); disk ${sim.archive.fsMb ? `${sim.archive.fsMb} MB tmpfs` : "not a small fs (no mount)"}: ${sim.archive.deletedLocally} final files deleted locally by the guard, ${sim.archive.deletedUnverified.length} of them unverified`,
  );
}
if (rt.length > 0) {
  console.log("");
  console.log(
    "| venue | minutes | markets | restarts | faults | rows | ok | differ | behind > 2 s (outside half-open) | attempts (max/min in one process, bound) |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|---|");
  for (const r of rt)
    console.log(
      `| ${r.venue} | ${r.minutes} | ${r.markets} | ${r.restarts} | ${Object.entries(r.faults)
        .map(([k, n]) => `${k} ${n}`)
        .join(
          ", ",
        )} | ${r.rows} | ${r.okRows} | ${r.mismatched} | ${r.lagging} (${r.laggingUnexplained}) | ${r.upgradeAttempts} (${r.maxAttemptsPerMinute}, ${r.attemptBound}) |`,
    );
}
const secs = ((performance.now() - started) / 1000).toFixed(0);
if (fails.length > 0) {
  console.log(`soak: FAIL (${secs} s) ${fails.join("; ")}`);
  process.exit(1);
}
console.log(
  `soak: PASS (${secs} s)${sim ? ` ${days} simulated day(s), ${sim.durable} rows, 0 lost, 0 duplicates;` : ""}${rt.map((r) => ` ${r.venue} ${r.minutes} min, ${r.okRows} ok rows equal to the server's books`).join(";")}`,
);
