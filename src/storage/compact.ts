/**
 * Compaction of a staged bucket into its one final Parquet file. Segments are read one at a time and streamed
 * through parquet-wasm's streaming writer, so memory is bounded by a segment plus the row group being encoded,
 * never by the bucket.
 */
import { dirname } from "node:path";
import type { WriterSettings } from "../config.ts";
import { pw } from "./parquet-wasm.ts";
import { decodeSegment, type SegmentStats } from "./staging.ts";
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

export function writerProperties(settings: Pick<WriterSettings, "compression" | "row_group_rows">, dictionary = DICTIONARY_COLUMNS): pw.WriterProperties {
  let b = new pw.WriterPropertiesBuilder()
    .setCompression(CODEC[settings.compression])
    .setMaxRowGroupSize(settings.row_group_rows)
    .setDictionaryEnabled(false)
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
): Promise<CompactResult> {
  const res: CompactResult = { rows: 0, bytes: 0, minTs: Infinity, maxTs: -Infinity, markets: new Set() };
  let i = 0;
  const source = new ReadableStream<pw.RecordBatch>(
    {
      async pull(ctrl) {
        if (i >= segments.length) return ctrl.close();
        const { ipc, stats } = decodeSegment(await fs.readFile(segments[i++]));
        addStats(res, stats);
        const table = pw.Table.fromIPCStream(ipc);
        for (const b of table.recordBatches()) ctrl.enqueue(b);
        table.free();
      },
    },
    { highWaterMark: 0 },
  );
  await fs.mkdirp(dirname(tmpPath));
  const out = await pw.transformParquetStream(source, writerProperties(settings));
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
