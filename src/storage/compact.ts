/**
 * Compaction of a staged bucket into its final Parquet file, one part at a time: raw parts encoded in row groups of
 * row_group_rows (parquet-wasm for snappy), encoded row groups copied as they are. Memory: a part plus the row group
 * being encoded, never the bucket.
 */
import { dirname } from "node:path";
import { Table, tableToIPC } from "apache-arrow";
import { decodePart } from "./column-buffer.ts";
import { SNAPSHOT_SCHEMA } from "../schema.ts";
import type { WriterSettings } from "../config.ts";
import { pw } from "../parquet/wasm.ts";
import { decodeRowGroupPart, PART_ROWGROUP, partKind, readSegmentStats, type SegmentStats } from "./staging.ts";
import { coalesced, type StorageFs } from "./fs.ts";
import { ParquetStreamEncoder } from "../parquet/encode.ts";

const CODEC = {
  zstd: pw.Compression.ZSTD,
  snappy: pw.Compression.SNAPPY,
  uncompressed: pw.Compression.UNCOMPRESSED,
} as const;

/**
 * Dictionary encoding per column, for the parquet-wasm path (snappy). Measured in bench/writer.bench.ts on
 * realistic books: dictionaries on the float/int columns cost speed for a few B/row; strings are cheap either way.
 * parquet-wasm 0.8 matches these settings by top-level name only, so list leaves follow the global default (off).
 */
export const DICTIONARY_COLUMNS: Record<string, boolean> = {
  venue: true,
  market_id: true,
  outcome_id: true,
  status: true,
  err: true,
};

export function writerProperties(
  settings: Pick<WriterSettings, "compression" | "row_group_rows">,
  dictionary = DICTIONARY_COLUMNS,
  dictionaryDefault = false,
): pw.WriterProperties {
  let b = new pw.WriterPropertiesBuilder()
    .setCompression(CODEC[settings.compression])
    .setMaxRowGroupSize(settings.row_group_rows)
    .setDictionaryEnabled(dictionaryDefault)
    .setCreatedBy("surveillance");
  for (const [col, on] of Object.entries(dictionary)) b = b.setColumnDictionaryEnabled(col, on);
  return b.build();
}

export interface CompactResult {
  rows: number;
  bytes: number;
  minTs: number;
  maxTs: number;
  markets: Set<string>;
}

/** Every part of `segments`, in order, one at a time (stats of each segment added to `res` as it is opened). */
async function* segmentParts(fs: StorageFs, segments: string[], res: CompactResult): AsyncGenerator<Uint8Array> {
  for (const seg of segments) {
    const stats = await readSegmentStats(fs, seg);
    addStats(res, stats);
    let offset = 0;
    for (const len of stats.parts!) {
      yield await fs.readRange(seg, offset, len);
      offset += len;
    }
  }
}

/**
 * Feeds every part to the encoder, reading each into a pooled buffer: a buffer returns to the pool once the row
 * group holding its rows is written, so compaction reuses a handful of part-sized buffers instead of allocating
 * (and leaving the GC) one per part — a 1,000,000-row bucket otherwise peaked at ~700 MB RSS. An encoded row group
 * first closes the row group of raw rows before it (order is kept), then is copied into the file.
 */
async function encodeParts(
  fs: StorageFs,
  segments: string[],
  res: CompactResult,
  enc: ParquetStreamEncoder,
): Promise<void> {
  const pool: Uint8Array[] = [];
  let held: Uint8Array[] = [];
  for (const seg of segments) {
    const stats = await readSegmentStats(fs, seg);
    addStats(res, stats);
    let offset = 0;
    for (const len of stats.parts!) {
      const i = pool.findIndex((b) => b.length >= len);
      const buf = i >= 0 ? pool.splice(i, 1)[0] : new Uint8Array(len);
      const bytes = await fs.readRange(seg, offset, len, buf);
      offset += len;
      if (partKind(bytes) === PART_ROWGROUP) {
        await enc.flushPending();
        pool.push(...held);
        held = [];
        await enc.writeEncoded(decodeRowGroupPart(bytes).group);
        pool.push(buf);
        continue;
      }
      const groups = enc.rowGroupCount;
      await enc.write(decodePart(bytes));
      held.push(buf);
      if (enc.rowGroupCount > groups) {
        // all rows before the last part are encoded; the last part may still have rows pending
        const last = enc.pendingRows > 0 ? held.pop() : undefined;
        pool.push(...held);
        held = last ? [last] : [];
      }
    }
  }
}

/**
 * Streams `segments` (absolute paths, in order) into `tmpPath` as one Parquet file, fsynced; the caller renames it.
 * ZSTD and uncompressed go through our encoder (parquet/encode.ts, native zstd); snappy through parquet-wasm.
 */
export async function compactSegments(
  fs: StorageFs,
  segments: string[],
  tmpPath: string,
  settings: Pick<WriterSettings, "compression" | "row_group_rows">,
  dictionary = DICTIONARY_COLUMNS,
  dictionaryDefault = false,
  engine: "native" | "wasm" = settings.compression === "snappy" ? "wasm" : "native",
): Promise<CompactResult> {
  const res: CompactResult = { rows: 0, bytes: 0, minTs: Infinity, maxTs: -Infinity, markets: new Set() };
  let codec = settings.compression;
  if (engine === "wasm") {
    // Encoded row groups (staged while compression was zstd/uncompressed) can only be copied by our encoder; the
    // raw rows around them then get ZSTD. Happens only when the config changed with data staged.
    for (const seg of segments) {
      if (((await readSegmentStats(fs, seg)).rowgroups ?? 0) > 0) {
        engine = "native";
        if (codec === "snappy") codec = "zstd";
        break;
      }
    }
  }
  await fs.mkdirp(dirname(tmpPath));
  const h = coalesced(await fs.create(tmpPath));
  const write = async (b: Uint8Array) => {
    await h.write(b);
    res.bytes += b.length;
  };
  try {
    const parts = segmentParts(fs, segments, res);
    if (engine === "native") {
      if (codec === "snappy") throw new Error("the native encoder has no snappy");
      const enc = new ParquetStreamEncoder(
        SNAPSHOT_SCHEMA,
        { codec, rowGroupRows: settings.row_group_rows, createdBy: "surveillance" },
        write,
      );
      await encodeParts(fs, segments, res, enc);
      await enc.finish();
    } else {
      // One IPC part at a time: hand it to wasm, let parquet-wasm's streaming writer consume it.
      const source = new ReadableStream<pw.RecordBatch>(
        {
          async pull(ctrl) {
            const next = await parts.next();
            if (next.done) return ctrl.close();
            const table = pw.Table.fromIPCStream(tableToIPC(new Table([decodePart(next.value)]), "stream"));
            for (const b of table.recordBatches()) ctrl.enqueue(b);
            table.free();
          },
        },
        { highWaterMark: 0 },
      );
      const out = await pw.transformParquetStream(source, writerProperties(settings, dictionary, dictionaryDefault));
      const reader = (out as ReadableStream<Uint8Array>).getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        await write(value);
      }
    }
    await h.commit();
  } catch (e) {
    await h.abort();
    await fs.unlink(tmpPath).catch(() => {});
    throw e;
  }
  return res;
}

export function addStats(res: CompactResult, s: SegmentStats): void {
  res.rows += s.rows;
  if (s.min_ts < res.minTs) res.minTs = s.min_ts;
  if (s.max_ts > res.maxTs) res.maxTs = s.max_ts;
  for (const m of s.markets) res.markets.add(m);
}
