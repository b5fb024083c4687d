/**
 * Checks the recorded dataset against docs/storage-format.md: exact schema, row counts vs the manifest, partition path vs rows,
 * and the book invariants on every row. Reads with parquet-wasm + apache-arrow (no Polars).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { DataType, type Data, type Field, type Table } from "apache-arrow";
import { ALL_COLUMNS, REQUIRED_COLUMNS, SNAPSHOT_SCHEMA } from "../schema.ts";
import { bucketStart, utcDate, utcHour } from "../timebucket.ts";
import { inferBucketMinutes, isBucketMinutes, tsRange, type InferredBucket } from "./file-buckets.ts";
import type { ManifestEntry, ManifestRead } from "../storage/manifest.ts";
import {
  type DatasetFile,
  listDatasetFiles,
  MANIFEST_DIR,
  MANIFEST_FILE,
  parseSnapshotFileName,
  parseSnapshotPartition,
} from "../layout.ts";
import { readParquetFile } from "../parquet/read.ts";
import { type ArchivedCopies, isArchived } from "./status.ts";

export interface Problem {
  /** Path relative to the data dir. */
  file: string;
  /** 0-based row index in the file, when the problem is one row's. */
  row?: number;
  check: string;
  message: string;
}

export interface VerifyOptions {
  venues?: string[];
  /** Hour range [fromTs, toTs) by partition. */
  fromTs?: number;
  toTs?: number;
  topK: number;
  /** writer.bucket_minutes: judges only files the manifest gives no bucket length for (see inferBucketMinutes). */
  bucketMinutes: number;
  /**
   * The writer's manifest (readManifest), or a function reading it: called after the files are listed, so a file a
   * running collector finalizes meanwhile is on disk before its manifest line is read. undefined = not checked.
   */
  manifest?: ManifestRead | (() => Promise<ManifestRead>);
  /** Per-file cap on row problems of one check (the rest are counted). */
  maxRowProblems?: number;
  /** The upload ledger's verified copies: a listed file gone from disk with one is archived, not missing. */
  archived?: ArchivedCopies;
  /**
   * Reading a copy of the bucket: a listed file absent whose manifest line was written at or after this time (epoch
   * ms) is pending (the manifest's copy runs ahead of the files' while the uploader catches up), not missing.
   */
  pendingSince?: number;
}

export interface VerifyReport {
  files: number;
  rows: number;
  problems: Problem[];
  /** Row problems not listed because of the per-file cap, by file. */
  suppressed: Record<string, number>;
  /** Files without a bucket length in the manifest that were judged by another length than the configured one. */
  inferred: InferredBucket[];
  /** Listed, gone from disk, verified in the bucket (not read here). */
  archived: string[];
  /** Listed, not (yet) in the bucket copy read, listed recently (see pendingSince). */
  pending: string[];
}

const STATUSES = new Set(["ok", "stale", "partial", "empty"]);
/** Float tolerance for derived values (mid, spread, depth3) recomputed here. */
const EPS = 1e-9;

function typeName(t: DataType): string {
  return DataType.isList(t) ? `List<${typeName(t.children[0].type)}>` : String(t);
}

/** Compares a file's Arrow schema with SNAPSHOT_SCHEMA: names, order, types (no dictionary), nullability. */
export function schemaProblems(fields: readonly Field[]): string[] {
  const out: string[] = [];
  const names = fields.map((f) => f.name);
  for (let i = 0; i < REQUIRED_COLUMNS.length; i++) {
    if (names[i] !== REQUIRED_COLUMNS[i]) {
      const at = names.indexOf(REQUIRED_COLUMNS[i]);
      out.push(
        at < 0
          ? `column ${REQUIRED_COLUMNS[i]} is missing`
          : `column ${REQUIRED_COLUMNS[i]} is at position ${at}, expected ${i}`,
      );
    }
  }
  for (const f of fields) {
    const want = SNAPSHOT_SCHEMA.fields.find((w) => w.name === f.name);
    if (!want) continue; // a later derived column this version does not know
    if (typeName(f.type) !== typeName(want.type))
      out.push(`column ${f.name} has type ${typeName(f.type)}, expected ${typeName(want.type)}`);
    if (f.nullable !== want.nullable)
      out.push(
        `column ${f.name} is ${f.nullable ? "nullable" : "non-nullable"}, expected ${want.nullable ? "nullable" : "non-nullable"}`,
      );
  }
  const lastRequired = names.indexOf(REQUIRED_COLUMNS[REQUIRED_COLUMNS.length - 1]);
  names.forEach((n, i) => {
    if (!(ALL_COLUMNS as readonly string[]).includes(n) && lastRequired >= 0 && i < lastRequired)
      out.push(`unknown column ${n} among the required ones`);
  });
  return out;
}

/** Flat view of one list<float64> chunk: values and absolute offsets, no per-row allocation. */
interface ListView {
  values: Float64Array;
  offsets: Int32Array;
  base: number;
}
function listView(d: Data): ListView {
  const child = d.children[0];
  return {
    values: (child.values as Float64Array).subarray(child.offset),
    offsets: d.valueOffsets as Int32Array,
    base: d.offset,
  };
}

// Utf8 cells read in place: the per-row checks compare bytes and decode only what a message shows.
function isNull(d: Data, i: number): boolean {
  const j = d.offset + i;
  return (
    d.nullCount > 0 && d.nullBitmap !== undefined && d.nullBitmap.length > 0 && !((d.nullBitmap[j >> 3] >> (j & 7)) & 1)
  );
}
function strLen(d: Data, i: number): number {
  const o = d.valueOffsets as Int32Array;
  return o[d.offset + i + 1] - o[d.offset + i];
}
function str(d: Data, i: number): string | null {
  if (isNull(d, i)) return null;
  const o = d.valueOffsets as Int32Array;
  return new TextDecoder().decode((d.values as Uint8Array).subarray(o[d.offset + i], o[d.offset + i + 1]));
}
function bytesEqual(d: Data, i: number, want: Uint8Array): boolean {
  const o = d.valueOffsets as Int32Array;
  const a = o[d.offset + i];
  if (o[d.offset + i + 1] - a !== want.length || isNull(d, i)) return false;
  const v = d.values as Uint8Array;
  for (let k = 0; k < want.length; k++) if (v[a + k] !== want[k]) return false;
  return true;
}
const STATUS_BYTES = [...STATUSES].map((s) => [s, new TextEncoder().encode(s)] as const);
function statusOf(d: Data, i: number): string | null {
  for (const [s, b] of STATUS_BYTES) if (bytesEqual(d, i, b)) return s;
  return str(d, i);
}

/** The bucket a file's rows must lie in; `note` ends the message of a row outside it. */
interface FileBucket {
  start: number;
  minutes: number;
  note: string;
}

/** Checks the rows of one file; `push` receives (row, check, message). */
function checkRows(
  table: Table,
  file: DatasetFile,
  bucket: FileBucket | undefined,
  opts: VerifyOptions,
  push: (row: number, check: string, msg: string) => void,
): void {
  const col = (n: string) => table.getChild(n)!;
  const ts = col("ts_recv"),
    venue = col("venue"),
    market = col("market_id"),
    outcome = col("outcome_id"),
    seq = col("seq");
  const bbp = col("best_bid_px"),
    bbs = col("best_bid_sz"),
    bap = col("best_ask_px"),
    bas = col("best_ask_sz");
  const mid = col("mid"),
    spread = col("spread"),
    status = col("status"),
    err = col("err");
  const bd3 = table.getChild("bid_depth3"),
    ad3 = table.getChild("ask_depth3");
  const bucketEnd = bucket ? bucket.start + bucket.minutes * 60_000 : 0;
  const venueBytes = new TextEncoder().encode(file.venue);
  const chunks = ts.data.length;
  let row = 0;
  for (let c = 0; c < chunks; c++) {
    const n = ts.data[c].length;
    const chunk = (v: typeof ts) => v.data[c];
    const f64 = (v: typeof ts) => {
      const d = chunk(v);
      return (d.values as Float64Array).subarray(d.offset, d.offset + n);
    };
    const i64 = (v: typeof ts) => {
      const d = chunk(v);
      return (d.values as BigInt64Array).subarray(d.offset, d.offset + n);
    };
    const tsA = i64(ts),
      seqA = i64(seq);
    const [bb, bs, ba, as, midA, sprA] = [bbp, bbs, bap, bas, mid, spread].map(f64);
    const d3b = bd3 ? f64(bd3) : undefined,
      d3a = ad3 ? f64(ad3) : undefined;
    const lists = {
      bid_px: listView(chunk(col("bid_px"))),
      bid_sz: listView(chunk(col("bid_sz"))),
      ask_px: listView(chunk(col("ask_px"))),
      ask_sz: listView(chunk(col("ask_sz"))),
    };
    const venueV = venue.data[c],
      statusV = status.data[c],
      errV = err.data[c],
      marketV = market.data[c],
      outcomeV = outcome.data[c];
    for (let i = 0; i < n; i++, row++) {
      const t = Number(tsA[i]);
      if (utcDate(t) !== file.date || Number(utcHour(t)) !== file.hour)
        push(
          row,
          "partition",
          `ts_recv ${new Date(t).toISOString()} is outside partition date=${file.date}/hour=${String(file.hour).padStart(2, "0")}`,
        );
      else if (bucket && !(t >= bucket.start && t < bucketEnd))
        push(
          row,
          "bucket",
          `ts_recv ${new Date(t).toISOString()} is outside the file's bucket [${new Date(bucket.start).toISOString()}, +${bucket.minutes} min)${bucket.note}`,
        );
      if (!bytesEqual(venueV, i, venueBytes))
        push(row, "venue", `venue ${JSON.stringify(str(venueV, i))} in a venue=${file.venue} partition`);
      if (strLen(marketV, i) === 0 || strLen(outcomeV, i) === 0) push(row, "ids", "empty market_id or outcome_id");
      if (seqA[i] < 0n) push(row, "seq", `negative seq ${seqA[i]}`);

      const side = (
        name: "bid" | "ask",
        desc: boolean,
        bestPx: number,
        bestSz: number,
        depth: Float64Array | undefined,
      ): number => {
        const px = lists[`${name}_px`],
          sz = lists[`${name}_sz`];
        const p0 = px.offsets[px.base + i],
          p1 = px.offsets[px.base + i + 1];
        const s0 = sz.offsets[sz.base + i],
          s1 = sz.offsets[sz.base + i + 1];
        const len = p1 - p0;
        if (len !== s1 - s0) {
          push(row, "lengths", `${name}_px has ${len} levels but ${name}_sz has ${s1 - s0}`);
          return -1;
        }
        if (len > opts.topK) push(row, "top_k", `${name} side has ${len} levels, more than top_k ${opts.topK}`);
        let depth3 = 0;
        for (let k = 0; k < len; k++) {
          const p = px.values[p0 + k],
            s = sz.values[s0 + k];
          if (!Number.isFinite(p) || !Number.isFinite(s)) {
            push(row, "finite", `${name} level ${k} has a non-finite value (px ${p}, sz ${s})`);
            return -1;
          }
          if (p < 0 || p > 1)
            push(row, "price_range", `${name}_px[${k}] = ${p} is outside 0..1 (dollars per 1-dollar contract)`);
          if (!(s > 0)) push(row, "size", `${name}_sz[${k}] = ${s} is not positive`);
          if (k > 0) {
            const prev = px.values[p0 + k - 1];
            if (desc ? !(p < prev) : !(p > prev)) {
              push(
                row,
                "sorted",
                `${name}_px not ${desc ? "descending" : "ascending"} at level ${k} (${prev} then ${p})`,
              );
              return -1;
            }
          }
          if (k < 3) depth3 += s;
        }
        if (len === 0) {
          if (!Number.isNaN(bestPx) || !Number.isNaN(bestSz))
            push(row, "best", `${name} side is empty but best_${name}_px/sz = ${bestPx}/${bestSz}, expected NaN`);
        } else if (bestPx !== px.values[p0] || bestSz !== sz.values[s0]) {
          push(
            row,
            "best",
            `best_${name}_px/sz = ${bestPx}/${bestSz}, but the first level is ${px.values[p0]}/${sz.values[s0]}`,
          );
        }
        if (depth && Math.abs(depth[i] - depth3) > EPS * Math.max(1, depth3))
          push(row, "depth3", `${name}_depth3 = ${depth[i]}, top-3 sizes sum to ${depth3}`);
        return len;
      };
      const nb = side("bid", true, bb[i], bs[i], d3b);
      const na = side("ask", false, ba[i], as[i], d3a);
      if (nb > 0 && na > 0) {
        const wantMid = (bb[i] + ba[i]) / 2,
          wantSpread = ba[i] - bb[i];
        if (!(Math.abs(midA[i] - wantMid) <= EPS))
          push(row, "mid", `mid = ${midA[i]}, best bid/ask ${bb[i]}/${ba[i]} give ${wantMid}`);
        if (!(Math.abs(sprA[i] - wantSpread) <= EPS))
          push(row, "spread", `spread = ${sprA[i]}, best bid/ask ${bb[i]}/${ba[i]} give ${wantSpread}`);
      } else if (nb >= 0 && na >= 0) {
        if (!Number.isNaN(midA[i]) || !Number.isNaN(sprA[i]))
          push(row, "mid", `a side is empty but mid/spread = ${midA[i]}/${sprA[i]}, expected NaN`);
      }
      const st = statusOf(statusV, i),
        e = isNull(errV, i) ? null : "";
      if (st === null || !STATUSES.has(st))
        push(row, "status", `status ${JSON.stringify(st)} is not ok/stale/partial/empty`);
      else if (nb >= 0 && na >= 0) {
        const want =
          st === "stale" ? "stale" : nb === 0 && na === 0 ? "empty" : nb === 0 || na === 0 ? "partial" : "ok";
        if (st !== want) push(row, "status", `status ${st} with ${nb} bid and ${na} ask levels, expected ${want}`);
        else if ((st === "ok") !== (e === null))
          push(
            row,
            "status",
            st === "ok" ? `status ok but err = ${JSON.stringify(str(errV, i))}` : `status ${st} without err`,
          );
      }
    }
  }
}

/** Verifies every final file in range. Never throws for a bad file: each problem is reported with file and row. */
export async function verifyDataset(dataDir: string, opts: VerifyOptions): Promise<VerifyReport> {
  const files = listDatasetFiles(dataDir, opts);
  const cap = opts.maxRowProblems ?? 20;
  const report: VerifyReport = {
    files: files.length,
    rows: 0,
    problems: [],
    suppressed: {},
    inferred: [],
    archived: [],
    pending: [],
  };
  const seen = new Set<string>();
  const listed = new Map<string, ManifestEntry>();
  const manifest = typeof opts.manifest === "function" ? await opts.manifest() : opts.manifest;
  if (manifest) {
    const mf = `${MANIFEST_DIR}/${MANIFEST_FILE}`;
    for (const line of manifest.badLines)
      report.problems.push({
        file: mf,
        check: "manifest",
        message: `line ${line} is not a manifest entry (torn write?)`,
      });
    for (const e of manifest.entries) {
      if (!pathInRange(e.path, opts)) continue;
      if (listed.has(e.path))
        report.problems.push({ file: e.path, check: "manifest", message: "listed more than once in the manifest" });
      listed.set(e.path, e);
    }
  }
  for (const file of files) {
    seen.add(file.rel);
    const fileProblem = (check: string, message: string) => report.problems.push({ file: file.rel, check, message });
    const m = parseSnapshotFileName(file.name);
    const entry = listed.get(file.rel);
    // The manifest's bucket length for this file (the config may have changed since it was written); else inferred below.
    const listedMinutes = entry && isBucketMinutes(entry.bucket_minutes) ? entry.bucket_minutes : undefined;
    let bucketTs: number | undefined;
    if (!m) fileProblem("file_name", `file name ${file.name} is not snapshots_YYYY-MM-DDTHH-mm.parquet`);
    else {
      bucketTs = m.start;
      if (m.date !== file.date || Number(m.hour) !== file.hour)
        fileProblem(
          "file_name",
          `file name ${file.name} does not match partition date=${file.date}/hour=${String(file.hour).padStart(2, "0")}`,
        );
      else if (listedMinutes !== undefined && bucketStart(bucketTs, listedMinutes) !== bucketTs)
        fileProblem(
          "file_name",
          `${m.hour}-${m.minute} is not the start of a ${listedMinutes}-minute bucket (the manifest's bucket_minutes)`,
        );
    }
    if (manifest && !entry) fileProblem("manifest", "file is not in the manifest");
    if (entry && entry.bytes !== file.bytes)
      fileProblem("manifest", `file has ${file.bytes} bytes, the manifest says ${entry.bytes}`);
    if (entry && entry.bucket_minutes !== undefined && listedMinutes === undefined)
      fileProblem(
        "manifest",
        `bucket_minutes ${JSON.stringify(entry.bucket_minutes)} in the manifest does not divide 60`,
      );
    if (entry && bucketTs !== undefined && typeof entry.bucket_start === "number" && entry.bucket_start !== bucketTs)
      fileProblem(
        "manifest",
        `the manifest says bucket start ${new Date(entry.bucket_start).toISOString()}, the name ${new Date(bucketTs).toISOString()}`,
      );
    let table: Table;
    try {
      table = await readParquetFile(file.abs);
    } catch (e) {
      fileProblem("unreadable", `cannot read as Parquet (${file.bytes} bytes): ${(e as Error).message ?? e}`);
      continue;
    }
    report.rows += table.numRows;
    if (entry && entry.rows !== table.numRows)
      fileProblem("row_count", `file has ${table.numRows} rows, the manifest says ${entry.rows}`);
    const schemaErrs = schemaProblems(table.schema.fields);
    for (const msg of schemaErrs) fileProblem("schema", msg);
    if (schemaErrs.length > 0) continue; // row checks read the columns by their schema types
    let bucket: FileBucket | undefined;
    if (bucketTs !== undefined && listedMinutes !== undefined)
      bucket = { start: bucketTs, minutes: listedMinutes, note: "" };
    else if (bucketTs !== undefined) {
      const hourTs = bucketStart(bucketTs, 60);
      const [minTs, maxTs] = tsRange(table, hourTs, hourTs + 3_600_000);
      const { minutes, fits } = inferBucketMinutes(bucketTs, opts.bucketMinutes, minTs, maxTs);
      if (fits && minutes !== opts.bucketMinutes) report.inferred.push({ file: file.rel, bucket_minutes: minutes });
      bucket = {
        start: bucketTs,
        minutes,
        note: fits ? "" : ", the longest bucket its name can start (no bucket length in the manifest)",
      };
    }
    const counts = new Map<string, number>();
    checkRows(table, file, bucket, opts, (row, check, message) => {
      const k = counts.get(check) ?? 0;
      counts.set(check, k + 1);
      if (k < cap) report.problems.push({ file: file.rel, row, check, message });
      else report.suppressed[file.rel] = (report.suppressed[file.rel] ?? 0) + 1;
    });
  }
  for (const [rel, e] of listed) {
    // present now = finalized by a running collector after the listing: not missing (the next verify reads it)
    if (seen.has(rel) || existsSync(join(dataDir, rel))) continue;
    if (isArchived(e, opts.archived)) report.archived.push(rel);
    else if (opts.pendingSince !== undefined && e.written_at >= opts.pendingSince) report.pending.push(rel);
    else report.problems.push({ file: rel, check: "missing", message: "in the manifest but not on disk" });
  }
  return report;
}

function pathInRange(rel: string, opts: VerifyOptions): boolean {
  const p = parseSnapshotPartition(rel);
  if (!p) return true;
  if (opts.venues?.length && !opts.venues.includes(p.venue)) return false;
  const ts = p.hourTs;
  return !(opts.fromTs !== undefined && ts < opts.fromTs) && !(opts.toTs !== undefined && ts >= opts.toTs);
}
