/** The harness's results: one table for people, and the list of checks that failed (the harness's exit code). */
import type { ClockStepResult } from "./clock-steps.ts";
import type { DiskResult } from "./disk.ts";
import type { FuzzResult } from "./fuzz.ts";
import type { KillResult } from "./kill.ts";
import type { NetworkResult } from "./network.ts";

export interface ChaosReport {
  seed: number;
  kills: KillResult[];
  network: NetworkResult[];
  fuzz: FuzzResult[];
  disk?: DiskResult;
  clock?: ClockStepResult;
  harnessPeakRssMb?: number;
  seconds?: number;
}

/** Every check the harness makes; empty when the run passed. */
export function failures(r: ChaosReport): string[] {
  const f: string[] = [];
  for (const k of r.kills) {
    if (k.lost > 0) f.push(`kill: ${k.lost} durable rows missing (markets ${k.lostMarkets.slice(0, 5).join(", ")})`);
    if (k.duplicates > 0) f.push(`kill: ${k.duplicates} duplicate rows`);
    if (k.unreadable > 0) f.push(`kill: ${k.unreadable} final files unreadable`);
    if (k.partialVisible > 0) f.push(`kill: ${k.partialVisible} incomplete files visible to the dataset glob`);
    if (k.strayFiles > 0) f.push(`kill: ${k.strayFiles} temp files left in the dataset tree`);
    if (k.finalsChanged > 0) f.push(`kill: ${k.finalsChanged} final files changed after they appeared`);
    if (!k.manifestOk) f.push("kill: manifest does not match the files");
    if (k.polarsRows !== k.duckRows) f.push(`kill: Polars read ${k.polarsRows} rows, DuckDB ${k.duckRows}`);
    if (k.durable > k.found) f.push(`kill: found ${k.found} < durable ${k.durable}`);
  }
  for (const n of r.network) {
    if (n.maxAttemptsPerMinute > n.configuredMaxPerMinute)
      f.push(`${n.venue}: ${n.maxAttemptsPerMinute} reconnect attempts in a minute > ${n.configuredMaxPerMinute}`);
    if (n.detectBoundMs > 0 && n.maxDetectMs > n.detectBoundMs)
      f.push(`${n.venue}: dead connection noticed after ${n.maxDetectMs} ms > ${n.detectBoundMs}`);
    if (!n.resubscribedExact) f.push(`${n.venue}: resubscribed set differs from the target set`);
    if (n.freshRowsWhileDown > 0)
      f.push(`${n.venue}: ${n.freshRowsWhileDown} rows not marked stale while disconnected`);
    if (n.booksNotStaleWhileDown > 0)
      f.push(`${n.venue}: ${n.booksNotStaleWhileDown} books not stale while disconnected`);
    if (!n.burstBooksMatch)
      f.push(`${n.venue}: books differ from the server's after a burst (or the burst dropped the connection)`);
  }
  for (const z of r.fuzz) {
    if (z.crashes > 0) f.push(`fuzz ${z.venue}: ${z.crashes} crashes (${z.firstViolation})`);
    if (z.invariantViolations > 0)
      f.push(`fuzz ${z.venue}: ${z.invariantViolations} invariant violations (${z.firstViolation})`);
    if (z.silent > 0) f.push(`fuzz ${z.venue}: ${z.silent} messages neither applied nor counted (${z.examples[0]})`);
    if (z.invalidUncounted > 0)
      f.push(`fuzz ${z.venue}: ${z.invalidUncounted} invalid messages not counted as rejected`);
    if (z.invalidAccepted > 0) f.push(`fuzz ${z.venue}: ${z.invalidAccepted} invalid messages applied`);
    if (z.heapGrowthMb > 32) f.push(`fuzz ${z.venue}: heap grew ${z.heapGrowthMb.toFixed(1)} MB`);
    if (z.rejectReasons > 64)
      f.push(`fuzz ${z.venue}: ${z.rejectReasons} distinct reject reasons (unbounded counter map?)`);
  }
  const d = r.disk;
  if (d) {
    if (d.lost > 0) f.push(`disk: ${d.lost} rows lost`);
    if (d.duplicates > 0) f.push(`disk: ${d.duplicates} duplicate rows`);
    if (d.peakBuffered > d.maxBufferRows)
      f.push(`disk: ${d.peakBuffered} rows buffered > max_buffer_rows ${d.maxBufferRows}`);
    if (d.dropped > 0 && d.logDropping === 0) f.push("disk: rows dropped without a log line");
    if (d.writeErrors > 0 && d.logWriteFailed === 0) f.push("disk: write errors without a log line");
    if (d.found + d.dropped !== d.produced)
      f.push(`disk: found ${d.found} + dropped ${d.dropped} ≠ produced ${d.produced}`);
  }
  const c = r.clock;
  if (c) {
    if (c.lost > 0) f.push(`clock: ${c.lost} rows lost`);
    if (c.duplicates > 0) f.push(`clock: ${c.duplicates} duplicate rows`);
    if (c.finalsChanged > 0) f.push(`clock: ${c.finalsChanged} final files rewritten`);
    if (c.misbucketed > 0) f.push(`clock: ${c.misbucketed} rows in another bucket's file`);
  }
  return f;
}

function table(head: string[], rows: (string | number)[][]): string {
  const cells = [head, ...rows.map((r) => r.map(String))];
  const w = head.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join("  ");
  return [line(head), w.map((n) => "-".repeat(n)).join("  "), ...cells.slice(1).map(line)].join("\n") + "\n";
}

const mb = (x: number | undefined) => (x ? `${x.toFixed(0)} MB` : "-");

export function renderReport(r: ChaosReport): string {
  const rows: (string | number)[][] = [];
  for (const k of r.kills) {
    rows.push([
      `SIGKILL + restart (${k.venue})`,
      `${k.kills} kills (${k.killsBeforeReady} during start-up/recovery)`,
      k.produced,
      k.durable,
      k.found,
      k.duplicates,
      k.lost,
      0,
      "-",
      mb(k.childPeakRssMb),
    ]);
  }
  for (const n of r.network) {
    const faults = [
      n.drops && `${n.drops} drops`,
      n.halfOpen && `${n.halfOpen} half-open`,
      n.slowConsumerBursts && `${n.slowConsumerBursts} bursts (${n.burstMessages} msgs)`,
      n.outages && `${n.outages}× 5-min outage`,
    ]
      .filter(Boolean)
      .join(", ");
    rows.push([
      `network ${n.venue}`,
      faults,
      "-",
      "-",
      "-",
      "-",
      0,
      0,
      `${n.maxAttemptsPerMinute}/min (cap ${n.configuredMaxPerMinute})`,
      "-",
    ]);
  }
  for (const z of r.fuzz) {
    rows.push([
      `fuzz ${z.venue}`,
      `${z.messages} msgs (${z.rejected} rejections counted)`,
      "-",
      "-",
      "-",
      "-",
      0,
      0,
      "-",
      mb(z.rssMb),
    ]);
  }
  const d = r.disk;
  if (d)
    rows.push([
      "disk full / read-only",
      `${d.faults.full} full + ${d.faults.readOnly} ro (${d.writeErrors} failed writes)`,
      d.produced,
      d.durable,
      d.found,
      d.duplicates,
      d.lost,
      d.dropped,
      "-",
      mb(d.peakRssMb),
    ]);
  const c = r.clock;
  if (c)
    rows.push([
      "wall-clock steps",
      `${c.backSteps} back + ${c.forwardSteps} forward`,
      c.produced,
      "-",
      c.found,
      c.duplicates,
      c.lost,
      0,
      "-",
      "-",
    ]);
  let out = `chaos run, seed ${r.seed}${r.seconds ? `, ${r.seconds.toFixed(0)} s` : ""}${r.harnessPeakRssMb ? `, harness peak RSS ${r.harnessPeakRssMb.toFixed(0)} MB` : ""}\n\n`;
  out += table(
    [
      "scenario",
      "faults injected",
      "produced",
      "durable",
      "found",
      "dup",
      "lost",
      "dropped*",
      "max reconnects",
      "peak RSS",
    ],
    rows,
  );
  out +=
    "* dropped: rows refused past writer.max_buffer_rows while the disk was unusable, each counted and logged (not lost)\n\n";

  const det: string[] = [];
  for (const k of r.kills) {
    det.push(
      `kill ${k.venue}: ${k.files} final files, all read by Polars (${k.polarsRows} rows) and DuckDB (${k.duckRows} rows); incomplete files seen by the glob after kills: ${k.partialVisible}; temp files left: ${k.strayFiles}; final files changed: ${k.finalsChanged}; manifest ${k.manifestOk ? "ok" : "MISMATCH"}`,
    );
  }
  for (const n of r.network) {
    det.push(
      `${n.venue}: ` +
        (n.halfOpen > 0
          ? `half-open connection noticed in ≤ ${(n.maxDetectMs / 1000).toFixed(1)} s (bound ${(n.detectBoundMs / 1000).toFixed(0)} s); `
          : "") +
        `outage: ${n.outageAttempts} attempts in 5 min, max ${n.maxAttemptsPerMinute} in any minute; back to fresh books ${(n.recoverMs / 1000).toFixed(1)} s after it ended` +
        `; resubscribed exactly: ${n.resubscribedExact ? "yes" : "NO"}; rows/books not stale while down: ${n.freshRowsWhileDown}/${n.booksNotStaleWhileDown}` +
        (n.burstMessages ? `; books equal to the server's after bursts: ${n.burstBooksMatch ? "yes" : "NO"}` : ""),
    );
  }
  for (const z of r.fuzz) {
    det.push(
      `fuzz ${z.venue}: ${Object.entries(z.kinds)
        .map(([kk, v]) => `${kk} ${v}`)
        .join(", ")}; applied ${z.applied}, no-op frames ${z.noops}, silent ${z.silent}` +
        `; invalid-by-construction uncounted/applied ${z.invalidUncounted}/${z.invalidAccepted}; invariant violations ${z.invariantViolations} over ${z.messages} messages and ${z.rowsChecked} rows; crashes ${z.crashes}; heap growth ${z.heapGrowthMb.toFixed(2)} MB; ${z.rejectReasons} reject reasons`,
    );
  }
  if (d)
    det.push(
      `disk (${d.method}): ${d.faultSecs} s unusable; peak buffered ${d.peakBuffered}/${d.maxBufferRows} rows; log: ${d.logWriteFailed} "write failed", ${d.logDropping} "DROPPING", ${d.logRecovered} "writes succeed again"`,
    );
  if (c)
    det.push(
      `clock: ${c.files} files (${c.lateFiles} late-row _N files), final files rewritten ${c.finalsChanged}, rows outside their file's bucket ${c.misbucketed}, longest silence after a step ${(c.maxSilentAfterStepMs / 1000).toFixed(1)} s`,
    );
  out += det.map((l) => `- ${l}`).join("\n") + "\n";
  const bad = failures(r);
  out +=
    bad.length === 0
      ? "\nresult: PASS (nothing lost, no duplicates, every invariant held)\n"
      : `\nresult: FAIL\n${bad.map((b) => `  - ${b}`).join("\n")}\n`;
  return out;
}
