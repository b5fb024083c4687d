/**
 * Compaction of a staged bucket into its one final Parquet file. Segments are read one at a time and streamed
 * through parquet-wasm's streaming writer, so memory is bounded by a segment plus the row group being encoded,
 * never by the bucket.
 */
import { dirname } from "node:path";
import type { WriterSettings } from "../config.ts";
import { pw } from "./parquet-wasm.ts";
import { readSegmentStats, type SegmentStats } from "./staging.ts";
import { type StorageFs } from "./fs.ts";

const CODEC = { zstd: pw.Compression.ZSTD, snappy: pw.Compression.SNAPPY, uncompressed: pw.Compression.UNCOMPRESSED } as const;

/**
 * Dictionary encoding per column. Strings repeat (a few hundred markets, four statuses) and shrink a lot;
 * float columns and the lists are near-unique prices/sizes where dictionaries cost speed for little size
 * (STYLE.md trap, re-measured in bench/writer.bench.ts).
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

/** Streams `segments` (absolute paths, in order) into `tmpPath` as one Parquet file, fsynced; the caller renames it. */
export async function compactSegments(
  fs: StorageFs,
  segments: string[],
  tmpPath: string,
  settings: Pick<WriterSettings, "compression" | "row_group_rows">,
  dictionary = DICTIONARY_COLUMNS,
  dictionaryDefault = false,
): Promise<CompactResult> {
  const res: CompactResult = { rows: 0, bytes: 0, minTs: Infinity, maxTs: -Infinity, markets: new Set() };
  // One IPC part at a time: read its byte range, hand it to wasm, let the Parquet writer consume it.
  let seg = -1;
  let parts: number[] = [];
  let part = 0;
  let offset = 0;
  const source = new ReadableStream<pw.RecordBatch>(
    {
      async pull(ctrl) {
        while (part >= parts.length) {
          if (++seg >= segments.length) return ctrl.close();
          const stats = await readSegmentStats(fs, segments[seg]);
          addStats(res, stats);
          parts = stats.parts!;
          part = 0;
          offset = 0;
        }
        const len = parts[part++];
        const ipc = await fs.readRange(segments[seg], offset, len);
        offset += len;
        const table = pw.Table.fromIPCStream(ipc);
        for (const b of table.recordBatches()) ctrl.enqueue(b);
        table.free();
      },
    },
    { highWaterMark: 0 },
  );
  await fs.mkdirp(dirname(tmpPath));
  const out = await pw.transformParquetStream(source, writerProperties(settings, dictionary, dictionaryDefault));
  const h = await fs.create(tmpPath);
  try {
    const reader = (out as ReadableStream<Uint8Array>).getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      await h.write(value);
      res.bytes += value.length;
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
