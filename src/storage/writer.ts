/**
 * The snapshot writer: rows buffered per (venue, bucket) in columns, made durable as staged segments, compacted into
 * the bucket's one final Parquet file once it closes. Write errors are retried with backoff, rows held up to
 * writer.max_buffer_rows; beyond it they are dropped, counted and logged, never silently (docs/storage-format.md).
 */
import { join } from "node:path";
import type { Clock, Timer } from "../clock.ts";
import type { WriterSettings } from "../config.ts";
import { logger, RateLimitedLog } from "../log.ts";
import type { Metrics } from "../metrics.ts";
import { SNAPSHOT_SCHEMA, type SnapshotInput, type SnapshotSink } from "../schema.ts";
import { bucketStart } from "../timebucket.ts";
import { snapshotPath, stagingBucketDir, stagingRoot } from "../layout.ts";
import { ColumnBuffer } from "./column-buffer.ts";
import { addStats, compactSegments, type CompactResult } from "./compact.ts";
import { errCode, nodeFs, type StorageFs, tmpName, writeAtomic } from "./fs.ts";
import { appendManifest, type ManifestEntry, readManifest } from "./manifest.ts";
import { WRITER_HELP, WRITER_METRICS as W } from "./metric-names.ts";
import {
  freeQuarantineDir,
  isCorrupt,
  quarantineSegment,
  salvageParts,
  trailerParts,
  trailerStart,
} from "./quarantine.ts";
import { ParquetStreamEncoder } from "../parquet/encode.ts";
import {
  ENCODE_AT_FLUSH_ROWS,
  encodeRowGroupSegment,
  encodeSegment,
  readSegmentStats,
  type SegmentStats,
  type FinalizeMarker,
  listStaged,
  MARKER,
  removeStaged,
  segmentName,
  segmentNumber,
} from "./staging.ts";

const log = logger("writer");

export interface WriterOptions {
  dataDir: string;
  settings: WriterSettings;
  topK: number;
  clock: Clock;
  metrics?: Metrics;
  /** A bucket is closed (and finalized) once the clock passes its end by this much. Default 2000 ms. */
  closeGraceMs?: number;
  /** File operations (tests inject failures here). */
  fs?: StorageFs;
  /** A flush of at least this many rows is staged encoded (default ENCODE_AT_FLUSH_ROWS; Infinity: always raw). */
  encodeAtFlushRows?: number;
  /**
   * Called once rows are durable (a staged segment is fsynced and renamed), with their count per market_id.
   * The fault harness uses it as the ground truth of what a killed process had made durable.
   */
  onDurable?: (venue: string, rowsByMarket: ReadonlyMap<string, number>) => void;
}

export interface WriterStatus {
  rowsAppended: number;
  /** In memory, not yet durable. */
  rowsBuffered: number;
  /** Durable in staging, not yet in a final file. */
  rowsStaged: number;
  rowsFinalized: number;
  bytesStaged: number;
  bytesFinalized: number;
  filesFinalized: number;
  flushes: number;
  flushMsTotal: number;
  lastFlushMs: number;
  lastFlushRows: number;
  lastFlushBytes: number;
  writeErrors: number;
  droppedRows: number;
  /** Buckets with rows not yet in a final file. */
  pendingBuckets: number;
  /** The last write error (code and path) while it is unresolved, else null. */
  lastError: string | null;
}

interface BucketState {
  venue: string;
  start: number;
  minutes: number;
  gen: number;
  dir: string;
  active: ColumnBuffer;
  /** Buffers taken from `active` by a flush, written in order. */
  pending: ColumnBuffer[];
  segments: string[];
  nextSeg: number;
  stagedRows: number;
  stagedBytes: number;
  /** False once finalization began (or for a recovered closed bucket): appends go to a new generation. */
  accepting: boolean;
  marker?: FinalizeMarker;
}

class WriteFailure extends Error {}

/** close() retries with backoff for at most this long (systemd's TimeoutStopSec in the README is 120 s). */
const CLOSE_BUDGET_MS = 60_000;
const CLOSE_FIRST_DELAY_MS = 1000;

export class SnapshotWriter implements SnapshotSink {
  private readonly fs: StorageFs;
  private readonly settings: WriterSettings;
  private readonly clock: Clock;
  private readonly metrics?: Metrics;
  private readonly graceMs: number;
  private readonly onDurable?: WriterOptions["onDurable"];
  private readonly encodeAtFlushRows: number;
  /** Every bucket with rows not yet final, in creation order. */
  private states: BucketState[] = [];
  /** Accepting states by venue, then bucket start. */
  private byVenue = new Map<string, Map<number, BucketState>>();
  private latestStart = new Map<string, number>();
  private last: BucketState | null = null;
  private spare: ColumnBuffer[] = [];
  private nextGen = 1;
  private manifestPaths = new Set<string>();
  /** Rows appended with an earlier ts_recv are durable: the start of the last flush that staged every buffer. */
  private durableTs: number;
  /** Dropped rows not yet handed to takeDropped: venue → hour start → rows. */
  private readonly dropsUntaken = new Map<string, Map<number, number>>();

  private chain: Promise<unknown> = Promise.resolve();
  private flushQueued = false;
  private tickTimer: Timer | null = null;
  private retryTimer: Timer | null = null;
  private failures = 0;
  private retryAt = 0;
  private closing: Promise<void> | null = null;
  private closed = false;
  private readonly errLog = new RateLimitedLog((m) => log.error(m), 5, 60_000);

  private st: WriterStatus = {
    rowsAppended: 0,
    rowsBuffered: 0,
    rowsStaged: 0,
    rowsFinalized: 0,
    bytesStaged: 0,
    bytesFinalized: 0,
    filesFinalized: 0,
    flushes: 0,
    flushMsTotal: 0,
    lastFlushMs: 0,
    lastFlushRows: 0,
    lastFlushBytes: 0,
    writeErrors: 0,
    droppedRows: 0,
    pendingBuckets: 0,
    lastError: null,
  };

  private constructor(
    readonly dataDir: string,
    private readonly topK: number,
    opts: WriterOptions,
  ) {
    this.fs = opts.fs ?? nodeFs;
    this.settings = opts.settings;
    this.clock = opts.clock;
    this.metrics = opts.metrics;
    this.graceMs = opts.closeGraceMs ?? 2000;
    this.onDurable = opts.onDurable;
    this.encodeAtFlushRows = opts.encodeAtFlushRows ?? ENCODE_AT_FLUSH_ROWS;
    this.durableTs = this.clock.now(); // nothing was appended before the writer opened
  }

  durableBefore(): number {
    return this.durableTs;
  }

  takeDropped(venue: string): Map<number, number> {
    const m = this.dropsUntaken.get(venue) ?? new Map<number, number>();
    this.dropsUntaken.delete(venue);
    return m;
  }

  /** Opens the store and recovers what a dead process left staged: closed buckets are finalized, the open one continues. */
  static async open(opts: WriterOptions): Promise<SnapshotWriter> {
    const w = new SnapshotWriter(opts.dataDir, opts.topK, opts);
    await w.recover();
    return w;
  }

  // ---- hot path ----

  append(s: SnapshotInput): void {
    if (this.closed) return this.drop(s.venue, "writer is closed", s.tsRecv);
    if (this.st.rowsBuffered >= this.settings.max_buffer_rows) return this.drop(s.venue, "buffer full", s.tsRecv);
    const start = bucketStart(s.tsRecv, this.settings.bucket_minutes);
    let st = this.last;
    if (st === null || st.start !== start || st.venue !== s.venue) {
      st = this.stateFor(s.venue, start);
      this.last = st;
    }
    st.active.append(s);
    this.st.rowsAppended++;
    this.st.rowsBuffered++;
    if (st.active.length >= this.settings.flush_rows) this.requestFlush();
  }

  // ---- control ----

  /** Arms the flush_secs timer on the injected clock. */
  start(): void {
    if (this.tickTimer || this.closing) return;
    const tick = async () => {
      this.tickTimer = null;
      await this.flush().catch(() => {}); // recorded and retried by flush itself
      if (!this.closing) this.tickTimer = this.clock.setTimer(this.settings.flush_secs * 1000, tick);
    };
    this.tickTimer = this.clock.setTimer(this.settings.flush_secs * 1000, tick);
  }

  /**
   * Makes every buffered row durable in staging and finalizes the buckets that have closed. Rejects when a
   * write failed (rows stay buffered and a retry is scheduled).
   */
  flush(): Promise<void> {
    return this.serial(() => this.flushOnce(false));
  }

  /** Finalizes everything (open buckets too) and stops. Idempotent; safe to call from a signal handler. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.tickTimer?.cancel();
    this.tickTimer = null;
    this.closing = (async () => {
      let lastErr: unknown;
      const t0 = this.clock.now();
      let attempts = 0;
      // A brief ENOSPC/EIO at shutdown should not cost every buffered row: back off on the clock, within a budget.
      for (let delay = CLOSE_FIRST_DELAY_MS; ; delay *= 2) {
        attempts++;
        try {
          await this.serial(() => this.flushOnce(true));
          if (this.states.length === 0) break;
        } catch (e) {
          lastErr = e;
        }
        const left = CLOSE_BUDGET_MS - (this.clock.now() - t0);
        if (lastErr === undefined || left <= 0) break;
        const wait = Math.min(delay, left);
        log.warn(
          `close: attempt ${attempts} failed (${errCode(lastErr)}); ${this.st.rowsBuffered} rows buffered (lost if this persists), ` +
            `${this.st.rowsStaged} staged; retrying in ${wait} ms`,
        );
        await this.clock.sleep(wait);
      }
      this.closed = true;
      this.retryTimer?.cancel();
      this.retryTimer = null;
      this.publishGauges();
      if (this.states.length > 0) {
        const lost = this.st.rowsBuffered;
        const msg = `writer closed after ${attempts} attempt(s) with ${this.st.rowsStaged} staged rows not finalized (recovered on next start) and ${lost} buffered rows lost: ${errCode(lastErr)}`;
        log.error(msg);
        throw new Error(msg);
      }
    })();
    return this.closing;
  }

  status(): WriterStatus {
    this.st.pendingBuckets = this.states.length;
    return { ...this.st };
  }

  // ---- internals ----

  private stateFor(venue: string, start: number): BucketState {
    let m = this.byVenue.get(venue);
    if (!m) this.byVenue.set(venue, (m = new Map()));
    let st = m.get(start);
    if (!st) {
      st = this.newState(venue, start, this.settings.bucket_minutes, this.nextGen++);
      m.set(start, st);
      this.states.push(st);
      const prev = this.latestStart.get(venue);
      if (prev === undefined || start > prev) {
        this.latestStart.set(venue, start);
        if (prev !== undefined) this.requestFlush(); // bucket change: make the previous bucket's rows durable now
      }
    }
    return st;
  }

  private newState(venue: string, start: number, minutes: number, gen: number): BucketState {
    return {
      venue,
      start,
      minutes,
      gen,
      dir: stagingBucketDir(this.dataDir, venue, start, minutes, gen),
      active: this.spare.pop() ?? this.newBuffer(),
      pending: [],
      segments: [],
      nextSeg: 1,
      stagedRows: 0,
      stagedBytes: 0,
      accepting: true,
    };
  }

  private requestFlush(): void {
    if (this.flushQueued || this.closing || this.clock.now() < this.retryAt) return;
    this.flushQueued = true;
    this.flush().catch(() => {});
  }

  private serial(fn: () => Promise<void>): Promise<void> {
    const p = this.chain.then(fn);
    this.chain = p.catch(() => {});
    return p;
  }

  private async flushOnce(all: boolean): Promise<void> {
    this.flushQueued = false;
    const cut = this.clock.now();
    const t0 = performance.now();
    const rows0 = this.st.rowsStaged + this.st.rowsFinalized;
    const bytes0 = this.st.bytesStaged;
    try {
      for (const st of this.states) {
        if (st.active.length > 0) {
          st.pending.push(st.active);
          st.active = this.spare.pop() ?? this.newBuffer();
        }
      }
      // Per bucket: one bucket that cannot be written or finalized must not hold back the others.
      let firstErr: unknown;
      const failed = new Set<BucketState>();
      for (const st of [...this.states]) {
        await this.writePending(st).catch((e) => {
          firstErr ??= e;
          failed.add(st);
        });
      }
      const now = this.clock.now();
      for (const st of [...this.states]) {
        if (failed.has(st)) continue; // its rows are not all staged: finalizing would only repeat the failure
        if (all || !st.accepting || now >= st.start + st.minutes * 60_000 + this.graceMs) {
          try {
            await this.finalize(st);
          } catch (e) {
            // Bad bytes (not an I/O error): quarantine the unreadable segments, then finalize what is left.
            if (!isCorrupt(e) || !(await this.repairBucket(st).catch(() => false))) {
              firstErr ??= e;
              continue;
            }
            await this.finalize(st).catch((e2) => (firstErr ??= e2));
          }
        }
      }
      if (firstErr !== undefined) throw firstErr;
      this.durableTs = Math.max(this.durableTs, cut);
    } catch (e) {
      this.onWriteError(e);
      throw e instanceof WriteFailure ? e : new WriteFailure(errCode(e));
    } finally {
      const ms = performance.now() - t0;
      this.st.flushes++;
      this.st.flushMsTotal += ms;
      this.st.lastFlushMs = ms;
      this.st.lastFlushRows = this.st.rowsStaged + this.st.rowsFinalized - rows0;
      this.st.lastFlushBytes = this.st.bytesStaged - bytes0;
      this.count("flushes", {}, 1);
      this.count("flushSeconds", {}, ms / 1000);
      this.publishGauges();
    }
    if (this.failures > 0) {
      // Say when it is over, not only when it starts: the operator reading the log wants both ends.
      log.info(
        `writes succeed again after ${this.failures} failed attempt(s) (${this.st.lastError}); buffered rows are durable` +
          (this.st.droppedRows > 0 ? `; ${this.st.droppedRows} rows dropped in total (buffer full)` : ""),
      );
    }
    this.failures = 0;
    this.retryAt = 0;
    this.st.lastError = null;
  }

  /** Writes a state's pending buffers as staged segments, in order; a failure leaves the rest pending. */
  private async writePending(st: BucketState): Promise<void> {
    while (st.pending.length > 0) {
      const buf = st.pending[0];
      if (st.segments.length === 0) await this.fs.mkdirp(st.dir);
      const name = segmentName(st.nextSeg);
      const rowsByMarket = buf.marketRows; // one pass over the buffer's ids, for the trailer and onDurable
      const stats = { rows: buf.length, min_ts: buf.minTs, max_ts: buf.maxTs, markets: [...rowsByMarket.keys()] };
      const bytes = await writeAtomic(this.fs, join(st.dir, name), this.segmentChunks(st.venue, buf, stats));
      st.nextSeg++;
      st.segments.push(name);
      st.pending.shift();
      st.stagedRows += buf.length;
      st.stagedBytes += bytes;
      this.st.rowsBuffered -= buf.length;
      this.st.rowsStaged += buf.length;
      this.st.bytesStaged += bytes;
      this.count("rowsStaged", { venue: st.venue }, buf.length);
      this.count("bytesStaged", { venue: st.venue }, bytes);
      this.onDurable?.(st.venue, rowsByMarket);
      this.release(buf);
    }
  }

  /**
   * A flushed buffer as a staged segment's bytes: a large flush encoded now, once (compaction copies it), a small one
   * raw (see staging.ts). Encoding is done up front, so a failure in it (a bug, not the disk) is not retried for ever
   * as if it were a write error: the buffer is staged raw instead, and compaction gets another chance at its rows.
   */
  private segmentChunks(venue: string, buf: ColumnBuffer, stats: SegmentStats): Iterable<Uint8Array> {
    if (buf.length >= this.encodeAtFlushRows && this.settings.compression !== "snappy") {
      try {
        return [
          ...encodeRowGroupSegment(buf.toRecordBatch(), stats, this.settings.row_group_rows, (b) =>
            this.rowGroupEncoder().encodeRowGroup(b),
          ),
        ];
      } catch (e) {
        this.count("encodeFailures", { venue }, 1);
        this.errLog.warn(
          "encode",
          `encoding a flush of ${buf.length} rows failed (${(e as Error)?.message ?? e}); staging it raw instead`,
          this.clock.now(),
        );
        this.encoder = undefined; // its scratch state is suspect
      }
    }
    return encodeSegment(buf, stats);
  }

  private encoder: ParquetStreamEncoder | undefined;
  /** Encodes flushed row groups (its scratch buffers are reused from flush to flush; it never writes a file). */
  private rowGroupEncoder(): ParquetStreamEncoder {
    const codec = this.settings.compression === "snappy" ? "zstd" : this.settings.compression;
    return (this.encoder ??= new ParquetStreamEncoder(
      SNAPSHOT_SCHEMA,
      { codec, rowGroupRows: this.settings.row_group_rows },
      () => {
        throw new Error("the flush encoder writes no file");
      },
    ));
  }

  /**
   * A new column buffer, small: it grows by doubling with the rows. (Sized for a full flush up front it saved a few
   * percent of the writer's time at high rates, but recycled memory is zeroed on allocation, so each new buffer
   * committed its full size: collect's peak RSS rose from ~220 MB to 300–400 MB.)
   */
  private newBuffer(): ColumnBuffer {
    return new ColumnBuffer(this.topK);
  }

  private release(buf: ColumnBuffer): void {
    buf.reset();
    if (this.spare.length < 1) this.spare.push(buf);
  }

  /** Compacts a state's staged segments into its final file (temp, fsync, rename), records it, removes staging. */
  private async finalize(st: BucketState): Promise<void> {
    if (st.accepting) {
      st.accepting = false;
      this.byVenue.get(st.venue)?.delete(st.start);
      if (this.last === st) this.last = null;
    }
    if (st.active.length > 0) {
      st.pending.push(st.active);
      st.active = new ColumnBuffer(this.topK, 16);
    }
    await this.writePending(st);
    if (st.segments.length === 0) {
      await this.fs.rmrf(st.dir);
      this.forget(st);
      return;
    }
    const segPaths = st.segments.map((s) => join(st.dir, s));
    let target = st.marker?.target;
    if (target !== undefined && (await this.fs.size(join(this.dataDir, target))) !== undefined) {
      // A previous process renamed the final file but died before cleaning up: only bookkeeping is left.
      const res = await this.statsFromSegments(segPaths);
      res.bytes = (await this.fs.size(join(this.dataDir, target)))!;
      await this.record(st, target, res);
      return;
    }
    if (target === undefined) {
      target = await this.freeTarget(st);
      const marker: FinalizeMarker = { target, rows: st.stagedRows };
      await writeAtomic(this.fs, join(st.dir, MARKER), [new TextEncoder().encode(JSON.stringify(marker))]);
      st.marker = marker;
    }
    const abs = join(this.dataDir, target);
    const tmp = tmpName(abs);
    const res = await compactSegments(this.fs, segPaths, tmp, this.settings);
    await this.fs.rename(tmp, abs);
    await this.fs.syncDir(join(abs, ".."));
    await this.record(st, target, res);
  }

  private async record(st: BucketState, target: string, res: CompactResult): Promise<void> {
    if (!this.manifestPaths.has(target)) {
      const part = /_(\d+)\.parquet$/.exec(target);
      const entry: ManifestEntry = {
        path: target,
        venue: st.venue,
        bucket_start: st.start,
        bucket_start_iso: new Date(st.start).toISOString(),
        bucket_minutes: st.minutes,
        part: part ? Number(part[1]) : 0,
        rows: res.rows,
        bytes: res.bytes,
        min_ts_recv: res.minTs,
        max_ts_recv: res.maxTs,
        markets: res.markets.size,
        written_at: this.clock.now(),
      };
      await appendManifest(this.fs, this.dataDir, entry);
      this.manifestPaths.add(target);
    }
    await removeStaged(this.fs, st.dir);
    this.st.rowsStaged -= st.stagedRows;
    this.st.bytesStaged -= st.stagedBytes;
    this.st.rowsFinalized += res.rows;
    this.st.bytesFinalized += res.bytes;
    this.st.filesFinalized++;
    this.count("rowsFinalized", { venue: st.venue }, res.rows);
    this.count("bytesFinalized", { venue: st.venue }, res.bytes);
    this.count("filesFinalized", { venue: st.venue }, 1);
    this.forget(st);
  }

  private forget(st: BucketState): void {
    const i = this.states.indexOf(st);
    if (i >= 0) this.states.splice(i, 1);
    if (st.accepting) this.byVenue.get(st.venue)?.delete(st.start);
    if (this.last === st) this.last = null;
  }

  /** The bucket's file name, or `_1`, `_2`, … when that exists or another staged generation has claimed it. */
  private async freeTarget(st: BucketState): Promise<string> {
    const claimed = new Set(this.states.map((s) => s.marker?.target).filter((t) => t !== undefined));
    for (let n = 0; ; n++) {
      const rel = snapshotPath(st.venue, st.start, st.minutes, n);
      if (claimed.has(rel)) continue;
      if ((await this.fs.size(join(this.dataDir, rel))) === undefined) return rel;
    }
  }

  /**
   * Checks a bucket's segments (the trailer only, or every part when `deep`); a segment that does not decode is
   * moved to quarantine after its readable parts are salvaged. I/O errors propagate (the normal retry path).
   */
  private async repairSegments(
    venue: string,
    dir: string,
    segments: string[],
    deep: boolean,
  ): Promise<{ segments: string[]; stats: CompactResult; quarantined: number }> {
    const stats: CompactResult = { rows: 0, bytes: 0, minTs: Infinity, maxTs: -Infinity, markets: new Set() };
    const kept: string[] = [];
    let qdir: string | undefined;
    let quarantined = 0;
    for (const seg of segments) {
      const path = join(dir, seg);
      let bytes: Uint8Array | undefined;
      let reason: string;
      try {
        if (!deep) {
          addStats(stats, await readSegmentStats(this.fs, path));
          kept.push(seg);
          continue;
        }
        bytes = await this.fs.readFile(path);
        const lens = trailerParts(bytes);
        const end = lens ? trailerStart(bytes) : undefined;
        const walk = salvageParts(bytes, end ?? bytes.length, lens);
        if (end !== undefined && walk.complete) {
          addStats(stats, await readSegmentStats(this.fs, path));
          kept.push(seg);
          continue;
        }
        reason =
          end === undefined
            ? "no readable trailer (torn or garbage)"
            : `${lens!.length - walk.parts.length} of ${lens!.length} part(s) do not decode`;
      } catch (e) {
        if (!isCorrupt(e)) throw e;
        reason = errCode(e);
      }
      bytes ??= await this.fs.readFile(path);
      qdir ??= await freeQuarantineDir(this.fs, this.dataDir, venue, dir);
      const salvaged = await quarantineSegment(this.fs, dir, seg, bytes, reason, qdir);
      quarantined++;
      this.count("quarantined", { venue }, 1);
      log.error(
        `unreadable staged segment ${path}: ${reason}; moved to ${join(qdir, seg)}, ${salvaged.rows} rows salvaged`,
      );
      if (salvaged.rows > 0) {
        addStats(stats, salvaged);
        kept.push(seg);
      }
    }
    return { segments: kept, stats, quarantined };
  }

  /** After a decode failure in finalization: deep-checks the bucket's segments. True if something was quarantined. */
  private async repairBucket(st: BucketState): Promise<boolean> {
    const r = await this.repairSegments(st.venue, st.dir, st.segments, true);
    if (r.quarantined === 0) return false;
    await this.adopt(st, r.segments, r.stats.rows);
    return true;
  }

  /** Replaces a state's segment list and staged counts (after recovery or repair). */
  private async adopt(st: BucketState, segments: string[], rows: number): Promise<void> {
    let bytes = 0;
    for (const s of segments) bytes += (await this.fs.size(join(st.dir, s))) ?? 0;
    this.st.rowsStaged += rows - st.stagedRows;
    this.st.bytesStaged += bytes - st.stagedBytes;
    st.segments = segments;
    st.stagedRows = rows;
    st.stagedBytes = bytes;
  }

  private async statsFromSegments(paths: string[]): Promise<CompactResult> {
    const res: CompactResult = { rows: 0, bytes: 0, minTs: Infinity, maxTs: -Infinity, markets: new Set() };
    for (const p of paths) addStats(res, await readSegmentStats(this.fs, p));
    return res;
  }

  private onWriteError(e: unknown): void {
    this.failures++;
    this.st.writeErrors++;
    const code = errCode(e);
    const path = (e as { path?: string }).path;
    this.st.lastError = path ? `${code} ${path}` : code;
    const delay = Math.min(
      this.settings.retry_cap_ms,
      this.settings.retry_base_ms * 2 ** Math.min(this.failures - 1, 30),
    );
    this.retryAt = this.clock.now() + delay;
    this.count("writeErrors", { code }, 1);
    this.errLog.warn(
      `write:${code}`,
      `write failed (${this.st.lastError}); ${this.st.rowsBuffered} rows kept in memory, retry in ${delay} ms (attempt ${this.failures})`,
      this.clock.now(),
    );
    if (!this.retryTimer && !this.closing) {
      this.retryTimer = this.clock.setTimer(delay, () => {
        this.retryTimer = null;
        return this.flush().catch(() => {});
      });
    }
  }

  private drop(venue: string, why: string, ts: number): void {
    this.st.droppedRows++;
    let byHour = this.dropsUntaken.get(venue);
    if (!byHour) this.dropsUntaken.set(venue, (byHour = new Map()));
    const hour = ts - (ts % 3_600_000);
    byHour.set(hour, (byHour.get(hour) ?? 0) + 1);
    this.count("rowsDropped", { venue }, 1);
    this.errLog.warn(
      `drop:${why}`,
      `DROPPING snapshot rows: ${why} (max_buffer_rows=${this.settings.max_buffer_rows}, ${this.st.droppedRows} dropped so far, last error: ${this.st.lastError ?? "none"})`,
      this.clock.now(),
    );
  }

  private publishGauges(): void {
    if (!this.metrics) return;
    this.gauge("rowsBuffered", this.st.rowsBuffered);
    this.gauge("rowsStagedNow", this.st.rowsStaged);
    this.gauge("pendingBuckets", this.states.length);
  }

  private count(k: keyof typeof W, labels: Record<string, string>, value: number): void {
    this.metrics?.inc(W[k], labels, value, WRITER_HELP[k]);
  }

  private gauge(k: keyof typeof W, value: number): void {
    this.metrics?.set(W[k], {}, value, WRITER_HELP[k]);
  }

  private async recover(): Promise<void> {
    let staged: Awaited<ReturnType<typeof listStaged>>;
    try {
      staged = await listStaged(this.fs, this.dataDir);
    } catch (e) {
      throw new Error(`cannot read the staging area ${stagingRoot(this.dataDir)}: ${errCode(e)}`);
    }
    if (staged.length === 0) return;
    for (const e of (await readManifest(this.dataDir, this.fs)).entries) this.manifestPaths.add(e.path);
    const now = this.clock.now();
    let recoveredRows = 0;
    for (const sb of staged) {
      this.nextGen = Math.max(this.nextGen, sb.gen + 1);
      const st = this.newState(sb.venue, sb.start, sb.minutes, sb.gen);
      st.dir = sb.dir;
      st.segments = sb.segments;
      st.nextSeg = sb.segments.length ? segmentNumber(sb.segments[sb.segments.length - 1]) + 1 : 1;
      st.marker = sb.marker;
      try {
        const r = await this.repairSegments(sb.venue, sb.dir, sb.segments, false);
        await this.adopt(st, r.segments, r.stats.rows);
      } catch (e) {
        // An I/O error: the counts stay unknown (0) and finalization goes through the normal retry path.
        log.error(`cannot read staged segments in ${sb.dir} (${errCode(e)}); finalization will retry`);
      }
      recoveredRows += st.stagedRows;
      const closed = now >= sb.start + sb.minutes * 60_000 + this.graceMs;
      const open =
        !closed &&
        !sb.marker &&
        sb.minutes === this.settings.bucket_minutes &&
        !this.byVenue.get(sb.venue)?.has(sb.start);
      st.accepting = open;
      this.states.push(st);
      if (open) {
        let m = this.byVenue.get(sb.venue);
        if (!m) this.byVenue.set(sb.venue, (m = new Map()));
        m.set(sb.start, st);
        const prev = this.latestStart.get(sb.venue);
        if (prev === undefined || sb.start > prev) this.latestStart.set(sb.venue, sb.start);
      }
    }
    log.info(`recovered ${recoveredRows} staged rows in ${staged.length} bucket(s)`);
    // Finalize what is closed now; a failure leaves it to the retry machinery rather than refusing to start.
    await this.flush().catch(() => {});
  }
}
